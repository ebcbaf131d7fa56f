// Schedules and frequency caps in the store: targets waiting for their time (deferred_targets,
// written by message-writes.ts), the messages they belong to, and the cap slots a send takes.
import { and, asc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import type { FrequencyCap } from "../core/preferences.ts";
import type { PriorityCode } from "../core/protocol.ts";
import type { FallbackPolicy, Notification } from "../core/channels.ts";
import type { DueTarget, NewMessage } from "../core/store.ts";
import { payloadOf } from "./payload.ts";
import { DeferredState, deferredTargets, frequencyLog, messages } from "./schema.ts";
import { type Db, type Statement, sqlNames } from "./statement.ts";

/** Scheduled and held targets due by `now`, oldest first. */
export async function dueTargets(db: Db, now: number, limit: number): Promise<DueTarget[]> {
  return db
    .select({ messageId: deferredTargets.messageId, appId: deferredTargets.appId, deviceId: deferredTargets.deviceId })
    .from(deferredTargets)
    .where(and(lt(deferredTargets.state, DeferredState.suppressed), lte(deferredTargets.releaseAt, now)))
    .orderBy(asc(deferredTargets.releaseAt))
    .limit(limit);
}

/** The earliest due time of any scheduled or held target, or null when none waits. */
export async function nextDueAt(db: Db): Promise<number | null> {
  const [row] = await db
    .select({ at: sql<number | null>`min(${deferredTargets.releaseAt})` })
    .from(deferredTargets)
    .where(lt(deferredTargets.state, DeferredState.suppressed));
  return row?.at ?? null;
}

/** How many targets wait (scheduled or held), due or not. */
export async function waitingTargets(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(deferredTargets).where(lt(deferredTargets.state, DeferredState.suppressed));
  return row?.n ?? 0;
}

export async function loadMessages(db: Db, messageIds: string[]): Promise<NewMessage[]> {
  if (messageIds.length === 0) return [];
  const rows = await db.select().from(messages).where(inArray(messages.id, messageIds));
  return rows.map(messageFromRow);
}

/** A stored message as the send path wrote it. */
export function messageFromRow(m: typeof messages.$inferSelect): NewMessage {
  return {
    appId: m.appId,
    messageId: m.id,
    priority: m.priority as PriorityCode,
    data: payloadOf(m.data),
    collapseKey: m.collapseKey,
    category: m.category,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
    notification: m.notification === null ? null : (JSON.parse(m.notification) as Notification),
    fallback: m.fallback === null ? null : (JSON.parse(m.fallback) as FallbackPolicy),
  };
}

const f = sqlNames(frequencyLog);
// A slot is taken only while fewer than the cap's limit of other messages of the category went to
// the device in the window; taking again for the same message is a no-op that succeeds.
const TAKE_SLOT = `INSERT INTO ${f.t} (${f.c.appId}, ${f.c.deviceId}, ${f.c.category}, ${f.c.messageId}, ${f.c.at})
  SELECT ?1, ?2, ?3, ?4, ?5
  WHERE (SELECT count(*) FROM ${f.t} WHERE ${f.c.appId} = ?1 AND ${f.c.deviceId} = ?2 AND ${f.c.category} = ?3
    AND ${f.c.at} > ?6 AND ${f.c.messageId} != ?4) < ?7
  ON CONFLICT DO UPDATE SET ${f.c.at} = ${f.c.at}
  RETURNING ${f.c.deviceId} AS deviceId`;

/** Takes one slot of each device's cap for this message, atomically per device; returns the devices that got one. */
export async function reserveFrequency(
  db: Db,
  input: { appId: string; messageId: string; category: string; now: number },
  entries: { deviceId: string; cap: FrequencyCap }[],
): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const { appId, messageId, category, now } = input;
  const statements: Statement[] = entries.map(({ deviceId, cap }) => ({
    sql: TAKE_SLOT,
    args: [appId, deviceId, category, messageId, now, now - cap.windowSeconds * 1000, cap.limit],
  }));
  const results = await db.$client.batch(statements, "write");
  return new Set(results.flatMap((r) => r.rows.map((row) => String(row.deviceId))));
}

/** Gives back the slots of a write that failed. */
export async function releaseFrequency(db: Db, appId: string, messageId: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await db
    .delete(frequencyLog)
    .where(and(eq(frequencyLog.appId, appId), eq(frequencyLog.messageId, messageId), inArray(frequencyLog.deviceId, deviceIds)));
}

