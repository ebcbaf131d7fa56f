// Retention: apps' own overrides, and the purge's steps. A step looks at one window of a table's
// rows in rowid order (at most `limit` of them, whatever it deletes), so a purge of millions of rows
// is many short write transactions that sends queue behind for milliseconds, never one long one.
// The statements are fixed text like the hot path's (statement.ts): rowid windows and per-app
// cutoffs joined from app_retention are not something the query builder can say.
import type { Client } from "@libsql/client";
import { eq } from "drizzle-orm";
import type { AppRetention, PurgeKind, PurgeStep, PurgeStepResult } from "../core/retention.ts";
import { appRetention, deferredTargets, frequencyLog, idempotencyKeys, InboxState, inbox, messages, releasedTargets } from "./schema.ts";
import { type Db, sqlNames } from "./statement.ts";
import { topicMessages, topics, topicSubscriptions } from "./topics-schema.ts";

const r = sqlNames(appRetention);
const i = sqlNames(inbox);
const m = sqlNames(messages);
const w = sqlNames(deferredTargets);
const rt = sqlNames(releasedTargets);
const tm = sqlNames(topicMessages);
const tp = sqlNames(topics);
const ts = sqlNames(topicSubscriptions);
const ik = sqlNames(idempotencyKeys);
const fl = sqlNames(frequencyLog);

/** Args of every step: (cursor, end, now, settled default, topic age default, topic count default). */
const IN_WINDOW = (alias: string) => `${alias}.rowid > ?1 AND ${alias}.rowid <= ?2`;
const settledCutoff = `(?3 - coalesce(ar.${r.c.settledSeconds}, ?4) * 1000)`;
const withRetention = (appIdColumn: string) => `LEFT JOIN ${r.t} ar ON ar.${r.c.appId} = ${appIdColumn}`;

const DELETES: Record<PurgeKind, { table: string; sql: string }> = {
  // Settled rows once old; a pending row only once its message expired longer ago than that.
  inbox: {
    table: i.t,
    sql: `DELETE FROM ${i.t} WHERE rowid IN (SELECT x.rowid FROM ${i.t} x JOIN ${m.t} msg ON msg.${m.c.id} = x.${i.c.messageId}
      ${withRetention(`x.${i.c.appId}`)} WHERE ${IN_WINDOW("x")} AND CASE WHEN x.${i.c.state} = ${InboxState.pending}
        THEN msg.${m.c.expiresAt} IS NOT NULL AND msg.${m.c.expiresAt} < ${settledCutoff}
        ELSE msg.${m.c.createdAt} < ${settledCutoff} AND coalesce(x.${i.c.deliveredAt}, 0) < ${settledCutoff} END)`,
  },
  // Suppressed and expired targets; scheduled and held ones are still to be released.
  waiting: {
    table: w.t,
    sql: `DELETE FROM ${w.t} WHERE rowid IN (SELECT x.rowid FROM ${w.t} x ${withRetention(`x.${w.c.appId}`)}
      WHERE ${IN_WINDOW("x")} AND x.${w.c.state} >= 2 AND x.${w.c.releaseAt} < ${settledCutoff})`,
  },
  // A release's guard outlives the release's window only while its inbox row is there for tracking.
  released: {
    table: rt.t,
    sql: `DELETE FROM ${rt.t} WHERE rowid IN (SELECT x.rowid FROM ${rt.t} x JOIN ${m.t} msg ON msg.${m.c.id} = x.${rt.c.messageId}
      ${withRetention(`msg.${m.c.appId}`)} WHERE ${IN_WINDOW("x")} AND x.${rt.c.releasedAt} < ${settledCutoff}
      AND NOT EXISTS (SELECT 1 FROM ${i.t} y WHERE y.${i.c.messageId} = x.${rt.c.messageId} AND y.${i.c.deviceId} = x.${rt.c.deviceId}))`,
  },
  // Messages nothing points at any more: no inbox row, waiting target, release guard or topic entry.
  messages: {
    table: m.t,
    sql: `DELETE FROM ${m.t} WHERE rowid IN (SELECT x.rowid FROM ${m.t} x ${withRetention(`x.${m.c.appId}`)}
      WHERE ${IN_WINDOW("x")} AND x.${m.c.createdAt} < ${settledCutoff}
      AND NOT EXISTS (SELECT 1 FROM ${i.t} y WHERE y.${i.c.messageId} = x.${m.c.id})
      AND NOT EXISTS (SELECT 1 FROM ${w.t} y WHERE y.${w.c.messageId} = x.${m.c.id})
      AND NOT EXISTS (SELECT 1 FROM ${rt.t} y WHERE y.${rt.c.messageId} = x.${m.c.id})
      AND NOT EXISTS (SELECT 1 FROM ${tm.t} y WHERE y.${tm.c.messageId} = x.${m.c.id}))`,
  },
  // Past the topic's age or count, and no subscriber still waiting for it within its TTL: every
  // subscriber's position (its delivered offset, or where it subscribed) is at or past it, or it expired.
  // The statement starts with DELETE, not WITH: the store's clients send statements that start with
  // WITH to a replica as reads.
  topic_entries: {
    table: tm.t,
    sql: `DELETE FROM ${tm.t} WHERE rowid IN (WITH win AS (SELECT x.rowid AS rid, x.${tm.c.appId} AS app, x.${tm.c.topic} AS topic, x.${tm.c.offset} AS off, x.${tm.c.messageId} AS mid
        FROM ${tm.t} x WHERE ${IN_WINDOW("x")}),
      floors AS (SELECT t.app, t.topic, tp.${tp.c.lastOffset} AS last,
        (SELECT min(max(s.${ts.c.startOffset}, s.${ts.c.deliveredOffset})) FROM ${ts.t} s WHERE s.${ts.c.appId} = t.app AND s.${ts.c.topic} = t.topic) AS floor
        FROM (SELECT DISTINCT app, topic FROM win) t JOIN ${tp.t} tp ON tp.${tp.c.appId} = t.app AND tp.${tp.c.name} = t.topic)
      SELECT win.rid FROM win JOIN floors f ON f.app = win.app AND f.topic = win.topic
        JOIN ${m.t} msg ON msg.${m.c.id} = win.mid ${withRetention("win.app")}
        WHERE (win.off <= f.last - coalesce(ar.${r.c.topicMaxEntries}, ?6) OR msg.${m.c.createdAt} < ?3 - coalesce(ar.${r.c.topicSeconds}, ?5) * 1000)
        AND (f.floor IS NULL OR win.off <= f.floor OR (msg.${m.c.expiresAt} IS NOT NULL AND msg.${m.c.expiresAt} < ?3)))`,
  },
  idempotency: {
    table: ik.t,
    sql: `DELETE FROM ${ik.t} WHERE ${IN_WINDOW(ik.t)} AND ${ik.c.createdAt} < ?3 - ?7 * 1000`,
  },
  frequency: {
    table: fl.t,
    sql: `DELETE FROM ${fl.t} WHERE ${IN_WINDOW(fl.t)} AND ${fl.c.at} < ?3 - ?8 * 1000`,
  },
};

const windowEnd = (table: string) => `SELECT max(rid) AS last FROM (SELECT rowid AS rid FROM ${table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?)`;
const WINDOW_ENDS = Object.fromEntries(Object.entries(DELETES).map(([kind, d]) => [kind, windowEnd(d.table)])) as Record<PurgeKind, string>;
const HIGHEST = Object.fromEntries(Object.entries(DELETES).map(([kind, d]) => [kind, `SELECT coalesce(max(rowid), 0) AS last FROM ${d.table}`])) as Record<PurgeKind, string>;

/** One window of one kind: what it deleted, and where the next window starts (null: the pass's end). */
export async function purgeStep(client: Client, step: PurgeStep): Promise<PurgeStepResult> {
  const { kind, cursor, limit, now, defaults } = step;
  const through = step.through ?? Number((await client.execute(HIGHEST[kind])).rows[0]?.last ?? 0);
  const end = (await client.execute({ sql: WINDOW_ENDS[kind], args: [cursor, through, limit] })).rows[0]?.last;
  if (end === null || end === undefined) return { deleted: 0, next: null, through };
  const args = [cursor, Number(end), now, defaults.settledSeconds, defaults.topicSeconds, defaults.topicMaxEntries, defaults.idempotencySeconds, defaults.frequencySeconds];
  const { sql } = DELETES[kind];
  const result = await client.execute({ sql, args: args.slice(0, maxArg(sql)) });
  return { deleted: result.rowsAffected, next: Number(end), through };
}

/** libSQL refuses more arguments than the statement names. */
const maxArg = (sql: string): number => Math.max(...[...sql.matchAll(/\?(\d+)/g)].map((x) => Number(x[1] ?? 0)));

export async function appRetentionOf(db: Db, appId: string): Promise<AppRetention> {
  const [row] = await db.select().from(appRetention).where(eq(appRetention.appId, appId));
  return { settledSeconds: row?.settledSeconds ?? null, topicSeconds: row?.topicSeconds ?? null, topicMaxEntries: row?.topicMaxEntries ?? null };
}

export async function setAppRetention(db: Db, appId: string, retention: AppRetention, now: number): Promise<void> {
  await db
    .insert(appRetention)
    .values({ appId, ...retention, updatedAt: now })
    .onConflictDoUpdate({ target: appRetention.appId, set: { ...retention, updatedAt: now } });
}
