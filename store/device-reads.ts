// The reads a relay makes for every HELLO, heartbeat and replay, as SQL written once at load time.
// In a reconnect storm the relay runs them thousands of times a second, and building them with
// drizzle's query builder cost more CPU than running them (profile of bench/storm.ts).
// Names come from the schema through `sqlNames`, so the schema stays the one source of truth.
import type { Client } from "@libsql/client";
import type { PriorityCode } from "../core/protocol.ts";
import type { DeviceRecord, DeviceRef, HelloState, InboxMessage } from "../core/store.ts";
import { apps, devices, InboxState, inbox, messages } from "./schema.ts";
import { payloadOf } from "./payload.ts";
import { readRow, sqlNames } from "./statement.ts";
import { topicSubscriptions } from "./topics-schema.ts";

const a = sqlNames(apps);
const d = sqlNames(devices);
const i = sqlNames(inbox);
const m = sqlNames(messages);
const s = sqlNames(topicSubscriptions);

const SECRET = `SELECT ${a.c.tokenSecret} AS secret FROM ${a.t} WHERE ${a.c.id} = ?`;
const DEVICE = `SELECT ${d.c.userId} AS userId, ${d.c.platform} AS platform, ${d.c.locale} AS locale, ${d.c.epoch} AS epoch,
  ${d.c.lastSeq} AS lastSeq, ${d.c.ackedSeq} AS ackedSeq, ${d.c.tokensRevokedAt} AS tokensRevokedAt, ${d.c.home} AS home, ${d.c.createdAt} AS createdAt
  FROM ${d.t} WHERE ${d.c.appId} = ? AND ${d.c.id} = ?`;
const LATEST = `SELECT ${d.c.lastSeq} AS lastSeq FROM ${d.t} WHERE ${d.c.appId} = ? AND ${d.c.id} = ?`;
// Many devices in one statement: the [appId, deviceId] pairs come as one JSON array argument, so the
// SQL is the same text whatever their number, and each pair is one primary-key lookup. `i` is the
// pair's index in the array.
const LATEST_MANY = `SELECT j.key AS i, dv.${d.c.lastSeq} AS lastSeq FROM json_each(?) j
  JOIN ${d.t} dv ON dv.${d.c.appId} = json_extract(j.value, '$[0]') AND dv.${d.c.id} = json_extract(j.value, '$[1]')`;
// One statement instead of two: the device's latest seq and its subscriptions as a JSON array.
const HELLO = `SELECT (${LATEST}) AS lastSeq,
  (SELECT json_group_array(json_array(${s.c.topic}, ${s.c.startOffset})) FROM ${s.t}
    WHERE ${s.c.appId} = ? AND ${s.c.deviceId} = ?) AS subscriptions`;
const PUSHABLE = `${InboxState.pending}, ${InboxState.delivered}`;
const INBOX = `SELECT i.${i.c.seq} AS seq, i.${i.c.messageId} AS messageId, m.${m.c.priority} AS priority, m.${m.c.data} AS data,
  m.${m.c.collapseKey} AS collapseKey, m.${m.c.createdAt} AS createdAt, m.${m.c.expiresAt} AS expiresAt
  FROM ${i.t} i JOIN ${m.t} m ON m.${m.c.id} = i.${i.c.messageId}
  WHERE i.${i.c.appId} = ? AND i.${i.c.deviceId} = ? AND i.${i.c.seq} > ? AND i.${i.c.state} IN (${PUSHABLE})
  ORDER BY i.${i.c.seq} LIMIT ?`;

const num = (v: unknown): number => Number(v);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export class DeviceReads {
  constructor(private readonly client: Client) {}

  async tokenSecret(appId: string): Promise<string | null> {
    return str((await readRow(this.client, { sql: SECRET, args: [appId] }))?.secret);
  }

  async getDevice(appId: string, deviceId: string): Promise<DeviceRecord | null> {
    const row = await readRow(this.client, { sql: DEVICE, args: [appId, deviceId] });
    if (!row) return null;
    return {
      appId,
      deviceId,
      userId: str(row.userId),
      platform: str(row.platform),
      locale: str(row.locale),
      epoch: num(row.epoch),
      lastSeq: num(row.lastSeq),
      ackedSeq: num(row.ackedSeq),
      tokensRevokedAt: row.tokensRevokedAt === null || row.tokensRevokedAt === undefined ? null : num(row.tokensRevokedAt),
      home: str(row.home),
      createdAt: num(row.createdAt),
    };
  }

  async latestSeq(appId: string, deviceId: string): Promise<number | null> {
    const row = await readRow(this.client, { sql: LATEST, args: [appId, deviceId] });
    return row ? num(row.lastSeq) : null;
  }

  /** Each device's latest seq, in the order asked; null for a device that does not exist. */
  async latestSeqs(devices: DeviceRef[]): Promise<(number | null)[]> {
    const latest: (number | null)[] = devices.map(() => null);
    if (devices.length === 0) return latest;
    const pairs = JSON.stringify(devices.map((r) => [r.appId, r.deviceId]));
    const { rows } = await this.client.execute({ sql: LATEST_MANY, args: [pairs] });
    for (const row of rows) latest[num(row.i)] = num(row.lastSeq);
    return latest;
  }

  async helloState(appId: string, deviceId: string): Promise<HelloState> {
    const row = await readRow(this.client, { sql: HELLO, args: [appId, deviceId, appId, deviceId] });
    const latestSeq = row?.lastSeq === null || row?.lastSeq === undefined ? null : num(row.lastSeq);
    const pairs = JSON.parse(String(row?.subscriptions ?? "[]")) as [string, number][];
    return { latestSeq, subscriptions: pairs.map(([topic, startOffset]) => ({ topic, startOffset })) };
  }

  /** Pushable inbox rows after `afterSeq`, oldest first; expired, collapsed and suppressed rows are left out. */
  async readInbox(appId: string, deviceId: string, afterSeq: number, limit: number): Promise<InboxMessage[]> {
    const { rows } = await this.client.execute({ sql: INBOX, args: [appId, deviceId, afterSeq, limit] });
    return rows.map((r) => ({
      seq: num(r.seq),
      messageId: String(r.messageId),
      priority: num(r.priority) as PriorityCode,
      data: payloadOf(r.data),
      collapseKey: str(r.collapseKey),
      createdAt: num(r.createdAt),
      expiresAt: r.expiresAt === null ? null : num(r.expiresAt),
    }));
  }
}
