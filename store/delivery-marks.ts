// The relay's delivery and expiry marks, written in batches (Relay.flush every ackFlushMs). The
// marks travel as one JSON array that json_each unpacks, so a flush is two statements of fixed
// text whatever the number of devices. Building them with drizzle as a VALUES table of 500 marks
// per chunk cost ~23 µs a device (SQL building and preparing a new statement text every flush);
// this costs ~8 µs, most of it SQLite's own row updates (measured on a 2000-device inbox, 400
// marks a flush). Tests: the store contract (core/store/store.contract.ts).
import type { Client } from "@libsql/client";
import type { DeliveryMark, FailureMark, TopicMark } from "../core/store.ts";
import { devices, InboxState, inbox } from "./schema.ts";
import { type Statement, sqlNames } from "./statement.ts";
import { ackedEvents, expiredEvents, failedEvents } from "./webhook-events.ts";
import { topicSubscriptions } from "./topics-schema.ts";

const d = sqlNames(devices);
const i = sqlNames(inbox);
const ts = sqlNames(topicSubscriptions);

// Rows at or below the device's acked_seq were marked when it was raised (by the next statement
// of an earlier batch), so the range starts above it instead of scanning the device's history.
const MARK_DELIVERED = `UPDATE ${i.t} SET ${i.c.state} = ${InboxState.delivered}, ${i.c.deliveredAt} = ?
  FROM json_each(?) AS j JOIN ${d.t} AS dev ON dev.${d.c.appId} = j.value->>0 AND dev.${d.c.id} = j.value->>1
  WHERE ${i.t}.${i.c.appId} = j.value->>0 AND ${i.t}.${i.c.deviceId} = j.value->>1
    AND ${i.t}.${i.c.seq} > dev.${d.c.ackedSeq} AND ${i.t}.${i.c.seq} <= j.value->>2 AND ${i.t}.${i.c.state} = ${InboxState.pending}`;

const RAISE_ACKED = `UPDATE ${d.t} SET ${d.c.ackedSeq} = max(${d.t}.${d.c.ackedSeq}, j.value->>2) FROM json_each(?) AS j
  WHERE ${d.t}.${d.c.appId} = j.value->>0 AND ${d.t}.${d.c.id} = j.value->>1`;

const MARK_EXPIRED = `UPDATE ${i.t} SET ${i.c.state} = ${InboxState.expired} FROM json_each(?) AS j
  WHERE ${i.t}.${i.c.appId} = j.value->>0 AND ${i.t}.${i.c.deviceId} = j.value->>1 AND ${i.t}.${i.c.seq} = j.value->>2
    AND ${i.t}.${i.c.state} = ${InboxState.pending}`;

const MARK_FAILED = `UPDATE ${i.t} SET ${i.c.state} = ${InboxState.failed}, ${i.c.reason} = j.value->>3 FROM json_each(?) AS j
  WHERE ${i.t}.${i.c.appId} = j.value->>0 AND ${i.t}.${i.c.deviceId} = j.value->>1 AND ${i.t}.${i.c.seq} = j.value->>2
    AND ${i.t}.${i.c.state} = ${InboxState.pending}`;

const RAISE_TOPIC = `UPDATE ${ts.t} SET ${ts.c.deliveredOffset} = max(${ts.t}.${ts.c.deliveredOffset}, j.value->>3) FROM json_each(?) AS j
  WHERE ${ts.t}.${ts.c.appId} = j.value->>0 AND ${ts.t}.${ts.c.deviceId} = j.value->>1 AND ${ts.t}.${ts.c.topic} = j.value->>2`;

/**
 * The statements that mark every pending row up to each device's seq delivered at `now` and raise
 * its acked_seq; first, for the marks of `eventApps` (apps with an endpoint for message.acked),
 * the webhook events. Other apps' marks skip that statement: it cost 40 % of a flush even when it
 * found no endpoint.
 */
export function deliveredStatements(marks: DeliveryMark[], now: number, eventApps: ReadonlySet<string> = new Set()): Statement[] {
  // A device listed twice would let SQLite pick either row for its acked_seq: keep the highest.
  const highest = new Map<string, DeliveryMark>();
  for (const m of marks) {
    const key = `${m.appId}\u0000${m.deviceId}`;
    if ((highest.get(key)?.seq ?? -1) < m.seq) highest.set(key, m);
  }
  const rows = Array.from(highest.values(), (m) => [m.appId, m.deviceId, m.seq] as const);
  const json = JSON.stringify(rows);
  const marking = [{ sql: MARK_DELIVERED, args: [now, json] }, { sql: RAISE_ACKED, args: [json] }];
  if (eventApps.size === 0) return marking;
  const subscribed = rows.filter((r) => eventApps.has(r[0]));
  return subscribed.length === 0 ? marking : [ackedEvents(JSON.stringify(subscribed), now), ...marking];
}

export async function markDelivered(client: Client, marks: DeliveryMark[], now: number, eventApps?: ReadonlySet<string>): Promise<void> {
  if (marks.length === 0) return;
  await client.batch(deliveredStatements(marks, now, eventApps), "write");
}

/** Marks exactly the listed rows expired, if they are still pending. */
export async function markExpired(client: Client, marks: DeliveryMark[]): Promise<void> {
  if (marks.length === 0) return;
  const json = JSON.stringify(marks.map((m) => [m.appId, m.deviceId, m.seq]));
  await client.batch([expiredEvents(json, Date.now()), { sql: MARK_EXPIRED, args: [json] }], "write");
}

/** Marks exactly the listed rows failed with their reason, if they are still pending. */
export async function markFailed(client: Client, marks: FailureMark[]): Promise<void> {
  if (marks.length === 0) return;
  const json = JSON.stringify(marks.map((m) => [m.appId, m.deviceId, m.seq, m.reason]));
  await client.batch([failedEvents(json, Date.now()), { sql: MARK_FAILED, args: [json] }], "write");
}

/** Raises each subscription's delivered offset; a device listed twice keeps the higher one. */
export async function markTopicDelivered(client: Client, marks: TopicMark[]): Promise<void> {
  if (marks.length === 0) return;
  const json = JSON.stringify(marks.map((m) => [m.appId, m.deviceId, m.topic, m.offset]));
  await client.batch([{ sql: RAISE_TOPIC, args: [json] }], "write");
}
