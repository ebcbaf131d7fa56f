// Targets kept out of the inbox (scheduled, held, suppressed, expired before release), the release
// guard, and frequency-cap reservations. The statements here join the send's or release's one
// atomic batch; see core/dispatch.ts for how they are put together.
import { and, asc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { PriorityCode } from "../core/protocol.ts";
import type { FrequencyCap } from "../core/preferences.ts";
import { DeferredState, type DeferredStateName, deferredTargets, frequencyLog, messages, releasedTargets } from "./schema.ts";
import { type Statement, toStatement } from "./statement.ts";
import type { Db } from "./libsql-store.ts";

export type { Statement } from "./statement.ts";

export type DeferReason = "schedule" | "quiet_hours" | "muted" | "frequency_cap" | "ttl";

export type DeferredTarget = {
  deviceId: string;
  state: DeferredStateName;
  reason: DeferReason;
  /** Due time for scheduled and held targets; the time of the decision for the final states. */
  releaseAt: number;
};

/** A scheduled or held target whose time has come. */
export type DueTarget = { messageId: string; appId: string; deviceId: string };

/** A stored message as a release needs it. */
export type StoredMessage = {
  appId: string;
  messageId: string;
  priority: PriorityCode;
  data: string;
  collapseKey: string | null;
  category: string | null;
  createdAt: number;
  expiresAt: number | null;
};

/**
 * Records targets that get no inbox row now. On a release the rows exist: they are updated only
 * while still scheduled or held, so a target another scheduler already moved on stays as it is.
 */
export function deferStatement(db: Db, appId: string, messageId: string, targets: DeferredTarget[], now: number): Statement {
  return toStatement(
    db
      .insert(deferredTargets)
      .values(
        targets.map((t) => ({
          messageId,
          appId,
          deviceId: t.deviceId,
          state: DeferredState[t.state],
          reason: t.reason,
          releaseAt: t.releaseAt,
          updatedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: [deferredTargets.messageId, deferredTargets.deviceId],
        set: {
          state: sql`excluded.state`,
          reason: sql`excluded.reason`,
          releaseAt: sql`excluded.release_at`,
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: lt(deferredTargets.state, DeferredState.suppressed),
      }),
  );
}

/**
 * Moves deferred targets into the inbox's batch. The plain insert into released_targets fails on a
 * target released before, which aborts the whole batch: no target is ever released twice.
 */
export function releaseStatements(db: Db, messageId: string, deviceIds: string[], now: number): Statement[] {
  return [
    toStatement(db.insert(releasedTargets).values(deviceIds.map((deviceId) => ({ messageId, deviceId, releasedAt: now })))),
    toStatement(
      db.delete(deferredTargets).where(and(eq(deferredTargets.messageId, messageId), inArray(deferredTargets.deviceId, deviceIds))),
    ),
  ];
}

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

export async function loadMessages(db: Db, messageIds: string[]): Promise<StoredMessage[]> {
  if (messageIds.length === 0) return [];
  const rows = await db.select().from(messages).where(inArray(messages.id, messageIds));
  return rows.map((m) => ({
    appId: m.appId,
    messageId: m.id,
    priority: m.priority as PriorityCode,
    data: m.data,
    collapseKey: m.collapseKey,
    category: m.category,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
  }));
}

/**
 * Takes one slot of each device's cap for this message, atomically per device: a slot is taken
 * only while fewer than `limit` other messages of the category went to the device in the window.
 * Returns the devices that got one; taking again for the same message is a no-op that succeeds.
 */
export async function reserveFrequency(
  db: Db,
  input: { appId: string; messageId: string; category: string; now: number },
  entries: { deviceId: string; cap: FrequencyCap }[],
): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const { appId, messageId, category, now } = input;
  const statements = entries.map(({ deviceId, cap }) =>
    db.all<{ device_id: string }>(sql`
      INSERT INTO ${frequencyLog} (app_id, device_id, category, message_id, at)
      SELECT ${appId}, ${deviceId}, ${category}, ${messageId}, ${now}
      WHERE (
        SELECT count(*) FROM ${frequencyLog}
        WHERE app_id = ${appId} AND device_id = ${deviceId} AND category = ${category}
          AND at > ${now - cap.windowSeconds * 1000} AND message_id != ${messageId}
      ) < ${cap.limit}
      ON CONFLICT DO UPDATE SET at = at
      RETURNING device_id`),
  );
  const results = (await db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as { device_id: string }[][];
  return new Set(results.flat().map((r) => r.device_id));
}

/** Gives back the slots of a write that failed. */
export async function releaseFrequency(db: Db, appId: string, messageId: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await db
    .delete(frequencyLog)
    .where(and(eq(frequencyLog.appId, appId), eq(frequencyLog.messageId, messageId), inArray(frequencyLog.deviceId, deviceIds)));
}

/** Forgets cap slots older than any window can reach. */
export async function pruneFrequencyLog(db: Db, before: number): Promise<void> {
  await db.delete(frequencyLog).where(lt(frequencyLog.at, before));
}
