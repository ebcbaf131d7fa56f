// The last mile in the store (core/last-mile-store.ts): endpoints, sealed credentials, the
// fallback queue and per-channel delivery records. Query-builder style (statement.ts): none of it
// runs per push; the fallback jobs themselves are written with the message (message-writes.ts).
import { and, asc, count, eq, inArray, lte, min, or, sql } from "drizzle-orm";
import { type ChannelEndpoint, type ChannelKind, endpointAddress } from "../core/channels.ts";
import type { ChannelDelivery, DueFallback, FallbackEnd, FallbackJob, FallbackOutcome, FallbackStatus, InboxRowState } from "../core/last-mile-store.ts";
import { messageFromRow } from "./deferred.ts";
import type { Subject } from "../core/store.ts";
import { channelCredentials, channelDeliveries, channelEndpoints, FallbackState, fallbackJobs } from "./channels-schema.ts";
import { devices, InboxState, inbox, messages } from "./schema.ts";
import { type Db, sqlNames, toStatement } from "./statement.ts";
import { appEvent } from "./webhook-events.ts";

const ofSubject = (appId: string, subject: Subject) =>
  and(eq(channelEndpoints.appId, appId), eq(channelEndpoints.subjectType, subject.type), eq(channelEndpoints.subjectId, subject.id));

export async function putEndpoints(db: Db, appId: string, subject: Subject, endpoints: ChannelEndpoint[], now: number): Promise<void> {
  const rows = endpoints.map((endpoint) => ({
    appId,
    subjectType: subject.type,
    subjectId: subject.id,
    kind: endpoint.kind,
    address: endpointAddress(endpoint),
    endpoint: JSON.stringify(endpoint),
    createdAt: now,
  }));
  const unique = [...new Map(rows.map((r) => [`${r.kind}\u0000${r.address}`, r])).values()];
  await db.batch([db.delete(channelEndpoints).where(ofSubject(appId, subject)), ...unique.map((row) => db.insert(channelEndpoints).values(row))] as never);
}

export async function endpointsOf(db: Db, appId: string, subject: Subject): Promise<ChannelEndpoint[]> {
  const rows = await db.select({ endpoint: channelEndpoints.endpoint }).from(channelEndpoints).where(ofSubject(appId, subject)).orderBy(asc(channelEndpoints.createdAt));
  return rows.map((r) => JSON.parse(r.endpoint) as ChannelEndpoint);
}

/** One read: the device's own endpoints, then its user's (subject types sort device < user). */
export async function endpointsForDevice(db: Db, appId: string, deviceId: string): Promise<ChannelEndpoint[]> {
  const e = channelEndpoints;
  const user = db.select({ userId: devices.userId }).from(devices).where(and(eq(devices.appId, appId), eq(devices.id, deviceId)));
  const rows = await db
    .select({ endpoint: e.endpoint })
    .from(e)
    .where(
      and(
        eq(e.appId, appId),
        or(and(eq(e.subjectType, "device"), eq(e.subjectId, deviceId)), and(eq(e.subjectType, "user"), eq(e.subjectId, sql`(${user})`))),
      ),
    )
    .orderBy(asc(e.subjectType), asc(e.createdAt));
  return rows.map((r) => JSON.parse(r.endpoint) as ChannelEndpoint);
}

export async function removeEndpoint(db: Db, appId: string, endpoint: ChannelEndpoint, reason: string, now: number): Promise<void> {
  const remove = db
    .delete(channelEndpoints)
    .where(and(eq(channelEndpoints.appId, appId), eq(channelEndpoints.kind, endpoint.kind), eq(channelEndpoints.address, endpointAddress(endpoint))));
  await db.$client.batch([toStatement(remove), appEvent(appId, "endpoint.removed", { kind: endpoint.kind, address: endpointAddress(endpoint), reason }, now)], "write");
}

export async function putCredentials(db: Db, appId: string, kind: ChannelKind, sealed: string, shown: Record<string, unknown>, now: number): Promise<void> {
  const values = { sealed, public: JSON.stringify(shown), updatedAt: now };
  await db
    .insert(channelCredentials)
    .values({ appId, kind, ...values })
    .onConflictDoUpdate({ target: [channelCredentials.appId, channelCredentials.kind], set: values });
}

export async function credentialsOf(db: Db, appId: string, kind: ChannelKind) {
  const [row] = await db.select().from(channelCredentials).where(and(eq(channelCredentials.appId, appId), eq(channelCredentials.kind, kind)));
  return row ? { sealed: row.sealed, shown: JSON.parse(row.public) as Record<string, unknown>, updatedAt: row.updatedAt } : null;
}

export async function configuredChannels(db: Db, appId: string) {
  const rows = await db.select().from(channelCredentials).where(eq(channelCredentials.appId, appId)).orderBy(asc(channelCredentials.kind));
  return rows.map((r) => ({ kind: r.kind as ChannelKind, shown: JSON.parse(r.public) as Record<string, unknown>, updatedAt: r.updatedAt }));
}

export async function deleteCredentials(db: Db, appId: string, kind: ChannelKind): Promise<boolean> {
  const gone = await db
    .delete(channelCredentials)
    .where(and(eq(channelCredentials.appId, appId), eq(channelCredentials.kind, kind)))
    .returning({ kind: channelCredentials.kind });
  return gone.length > 0;
}

const waiting = eq(fallbackJobs.state, FallbackState.waiting);
const job = (j: FallbackJob) => and(eq(fallbackJobs.messageId, j.messageId), eq(fallbackJobs.deviceId, j.deviceId), waiting);

export async function dueFallbacks(db: Db, now: number, limit: number): Promise<DueFallback[]> {
  const rows = await db
    .select({ job: fallbackJobs, state: inbox.state, message: messages })
    .from(fallbackJobs)
    .leftJoin(inbox, and(eq(inbox.appId, fallbackJobs.appId), eq(inbox.deviceId, fallbackJobs.deviceId), eq(inbox.seq, fallbackJobs.seq)))
    .leftJoin(messages, eq(messages.id, fallbackJobs.messageId))
    .where(and(waiting, lte(fallbackJobs.dueAt, now)))
    .orderBy(asc(fallbackJobs.priority), asc(fallbackJobs.dueAt))
    .limit(limit);
  return rows.map(({ job: j, state, message: m }) => ({
    messageId: j.messageId,
    appId: j.appId,
    deviceId: j.deviceId,
    seq: j.seq,
    channels: JSON.parse(j.channels) as ChannelKind[],
    dueAt: j.dueAt,
    attempts: j.attempts,
    row: rowState(state),
    message: m && messageFromRow(m),
  }));
}

const rowState = (state: number | null): InboxRowState =>
  state === null ? "missing" : state === InboxState.pending ? "pending" : state === InboxState.delivered ? "delivered" : "other";

export async function nextFallbackAt(db: Db): Promise<number | null> {
  const [row] = await db.select({ at: min(fallbackJobs.dueAt) }).from(fallbackJobs).where(waiting);
  return row?.at ?? null;
}

export async function advanceFallbacks(db: Db, messageId: string, deviceIds: string[], at: number): Promise<void> {
  if (deviceIds.length === 0) return;
  await db
    .update(fallbackJobs)
    .set({ dueAt: at })
    .where(and(eq(fallbackJobs.messageId, messageId), inArray(fallbackJobs.deviceId, deviceIds), waiting));
}

export async function retryFallback(db: Db, j: FallbackJob, dueAt: number): Promise<void> {
  await db.update(fallbackJobs).set({ dueAt, attempts: j.attempts + 1 }).where(job(j));
}

export async function finishFallback(db: Db, j: FallbackJob, outcome: FallbackOutcome, delivery?: ChannelDelivery): Promise<void> {
  await finishFallbacks(db, [{ job: j, outcome, delivery }]);
}

/** Every end in one transaction: a page of jobs costs one commit, not one each. */
export async function finishFallbacks(db: Db, ends: FallbackEnd[]): Promise<void> {
  if (ends.length === 0) return;
  const statements = ends.flatMap(({ job: j, outcome, delivery }) => {
    const out = [toStatement(db.update(fallbackJobs).set({ state: FallbackState.finished, outcome, attempts: j.attempts + 1 }).where(job(j)))];
    if (delivery) out.push(toStatement(upsertDelivery(db, j.messageId, delivery)));
    if (delivery && outcome === "sent") out.push(appEvent(j.appId, "fallback.sent", { messageId: j.messageId, deviceId: j.deviceId, seq: j.seq, channel: delivery.kind }, delivery.at));
    return out;
  });
  await db.$client.batch(statements, "write");
}

const e = sqlNames(channelEndpoints);
const dv = sqlNames(devices);
// Each asked device's endpoints, then its user's, as [index, endpoint] rows in that order.
const ENDPOINTS_MANY = `SELECT j.key AS i, ep.${e.c.endpoint} AS endpoint FROM json_each(?) AS j
  JOIN ${e.t} AS ep ON ep.${e.c.appId} = j.value->>0 AND (
    (ep.${e.c.subjectType} = 'device' AND ep.${e.c.subjectId} = j.value->>1)
    OR (ep.${e.c.subjectType} = 'user' AND ep.${e.c.subjectId} = (SELECT d.${dv.c.userId} FROM ${dv.t} AS d WHERE d.${dv.c.appId} = j.value->>0 AND d.${dv.c.id} = j.value->>1)))
  ORDER BY j.key, ep.${e.c.subjectType}, ep.${e.c.createdAt}`;

export async function endpointsForDevices(db: Db, asked: { appId: string; deviceId: string }[]): Promise<ChannelEndpoint[][]> {
  const out: ChannelEndpoint[][] = asked.map(() => []);
  if (asked.length === 0) return out;
  const { rows } = await db.$client.execute({ sql: ENDPOINTS_MANY, args: [JSON.stringify(asked.map((a) => [a.appId, a.deviceId]))] });
  for (const row of rows) out[Number(row.i)]!.push(JSON.parse(String(row.endpoint)) as ChannelEndpoint);
  return out;
}

export async function waitingFallbacks(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(fallbackJobs).where(waiting);
  return row?.n ?? 0;
}

function upsertDelivery(db: Db, messageId: string, d: ChannelDelivery) {
  const values = { state: d.state, reason: d.reason, at: d.at };
  return db
    .insert(channelDeliveries)
    .values({ messageId, deviceId: d.deviceId, kind: d.kind, ...values })
    .onConflictDoUpdate({ target: [channelDeliveries.messageId, channelDeliveries.deviceId, channelDeliveries.kind], set: values });
}

export async function recordChannelDelivery(db: Db, messageId: string, d: ChannelDelivery): Promise<void> {
  await upsertDelivery(db, messageId, d);
}

export async function channelDeliveriesOf(db: Db, messageId: string, deviceIds: string[]): Promise<ChannelDelivery[]> {
  if (deviceIds.length === 0) return [];
  const rows = await db
    .select()
    .from(channelDeliveries)
    .where(and(eq(channelDeliveries.messageId, messageId), inArray(channelDeliveries.deviceId, deviceIds)))
    .orderBy(asc(channelDeliveries.at));
  return rows.map((r) => ({ deviceId: r.deviceId, kind: r.kind as ChannelKind, state: r.state as ChannelDelivery["state"], reason: r.reason, at: r.at }));
}

export async function fallbacksOf(db: Db, messageId: string, deviceIds: string[]): Promise<FallbackStatus[]> {
  if (deviceIds.length === 0) return [];
  const rows = await db
    .select()
    .from(fallbackJobs)
    .where(and(eq(fallbackJobs.messageId, messageId), inArray(fallbackJobs.deviceId, deviceIds)));
  return rows.map((r) => ({
    deviceId: r.deviceId,
    state: r.state === FallbackState.waiting ? "waiting" : ((r.outcome ?? "exhausted") as FallbackOutcome),
    dueAt: r.dueAt,
    channels: JSON.parse(r.channels) as ChannelKind[],
    attempts: r.attempts,
  }));
}
