// What tracking reads: a message's targets and an app's counts, as the store records them. A target
// is either an inbox row (it got a sequence) or a deferred row (scheduled, held, suppressed,
// expired before release); together they are every target exactly once. What a reader sees (a
// lapsed pending target is expired) is core/lifecycle.ts's business, in core/tracking.ts.
import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import type { TargetState } from "../core/lifecycle.ts";
import type { PriorityCode } from "../core/protocol.ts";
import type { AppCounts, MessageTargets, Percentiles, StateCount, TargetRecord } from "../core/store.ts";
import { DeferredState, deferredTargets, InboxState, inbox, messages, releasedTargets } from "./schema.ts";
import type { Db } from "./statement.ts";
import { topicMessages, topicSubscriptions } from "./topics-schema.ts";

const INBOX_NAMES = Object.fromEntries(Object.entries(InboxState).map(([n, c]) => [c, n])) as Record<number, TargetState>;
const DEFERRED_NAMES = Object.fromEntries(Object.entries(DeferredState).map(([n, c]) => [c, n])) as Record<number, TargetState>;
const inboxState = (code: number): TargetState => INBOX_NAMES[code] ?? "pending";
const deferredState = (code: number): TargetState => DEFERRED_NAMES[code] ?? "scheduled";

export async function messageApp(db: Db, messageId: string): Promise<string | null> {
  const [row] = await db.select({ appId: messages.appId }).from(messages).where(eq(messages.id, messageId)).limit(1);
  return row?.appId ?? null;
}

export async function messageTargets(db: Db, appId: string, messageId: string, limit: number): Promise<MessageTargets | null> {
  const [message] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.appId, appId), eq(messages.id, messageId)));
  if (!message) return null;
  const record = {
    messageId,
    topic: null as { name: string; offset: number } | null,
    createdAt: message.createdAt,
    expiresAt: message.expiresAt,
    priority: message.priority as PriorityCode,
    category: message.category,
    targetCount: message.targetCount,
  };
  const [inTopic] = await db
    .select({ name: topicMessages.topic, offset: topicMessages.offset })
    .from(topicMessages)
    .where(eq(topicMessages.messageId, messageId));
  if (inTopic) return topicTargets(db, appId, { ...record, topic: inTopic }, limit);

  const inboxCounts = await db
    .select({ state: inbox.state, count: sql<number>`count(*)` })
    .from(inbox)
    .where(eq(inbox.messageId, messageId))
    .groupBy(inbox.state);
  const deferredCounts = await db
    .select({ state: deferredTargets.state, reason: deferredTargets.reason, count: sql<number>`count(*)` })
    .from(deferredTargets)
    .where(eq(deferredTargets.messageId, messageId))
    .groupBy(deferredTargets.state, deferredTargets.reason);
  const counts: StateCount[] = [
    ...inboxCounts.map((r) => ({ state: inboxState(r.state), reason: null, count: r.count })),
    ...deferredCounts.map((r) => ({ state: deferredState(r.state), reason: r.reason, count: r.count })),
  ];

  const inboxRows = await db
    .select({
      deviceId: inbox.deviceId,
      seq: inbox.seq,
      state: inbox.state,
      reason: inbox.reason,
      deliveredAt: inbox.deliveredAt,
      releasedAt: releasedTargets.releasedAt,
    })
    .from(inbox)
    .leftJoin(releasedTargets, and(eq(releasedTargets.messageId, inbox.messageId), eq(releasedTargets.deviceId, inbox.deviceId)))
    .where(and(eq(inbox.messageId, messageId), eq(inbox.appId, appId)))
    .orderBy(asc(inbox.deviceId))
    .limit(limit + 1);
  const deferredRows = await db
    .select()
    .from(deferredTargets)
    .where(eq(deferredTargets.messageId, messageId))
    .orderBy(asc(deferredTargets.deviceId))
    .limit(limit + 1);
  const targets: TargetRecord[] = [
    ...inboxRows.map((r) => ({
      deviceId: r.deviceId,
      state: inboxState(r.state),
      seq: r.seq,
      reason: r.reason,
      queuedAt: r.releasedAt ?? message.createdAt,
      deliveredAt: r.deliveredAt,
      at: null,
    })),
    ...deferredRows.map((r) => ({
      deviceId: r.deviceId,
      state: deferredState(r.state),
      seq: null,
      reason: r.reason,
      queuedAt: null,
      deliveredAt: null,
      at: r.releaseAt,
    })),
  ];
  return { message: record, counts, targets };
}

/**
 * A topic message's targets: the subscriptions that existed when it was published (they started
 * before its offset) and still exist. A target is delivered once a relay wrote the message to the
 * device's connection or the device reported the offset in HELLO; the rest of the publish-time
 * subscribers count as pending.
 */
async function topicTargets(db: Db, appId: string, record: MessageTargets["message"], limit: number): Promise<MessageTargets> {
  const { name, offset } = record.topic!;
  const ofMessage = and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.topic, name), lt(topicSubscriptions.startOffset, offset));
  const reached = gte(topicSubscriptions.deliveredOffset, offset);
  const [counted] = await db.select({ delivered: sql<number>`count(*)` }).from(topicSubscriptions).where(and(ofMessage, reached));
  const delivered = counted?.delivered ?? 0;
  const rows = await db
    .select({ deviceId: topicSubscriptions.deviceId, deliveredOffset: topicSubscriptions.deliveredOffset })
    .from(topicSubscriptions)
    .where(ofMessage)
    .orderBy(asc(topicSubscriptions.deviceId))
    .limit(limit + 1);
  const targets: TargetRecord[] = rows.map((r) => ({
    deviceId: r.deviceId,
    state: r.deliveredOffset >= offset ? "delivered" : "pending",
    seq: null,
    reason: null,
    queuedAt: record.createdAt,
    deliveredAt: null,
    at: null,
  }));
  const counts: StateCount[] = [
    { state: "delivered", reason: null, count: delivered },
    { state: "pending", reason: null, count: Math.max(0, record.targetCount - delivered) },
  ];
  return { message: record, counts, targets };
}

/** Counts for the messages an app created in [from, to); lapsed as core/lifecycle.ts `isLapsed` (expiry at or before now). */
export async function appCounts(db: Db, appId: string, from: number, to: number, now: number): Promise<AppCounts> {
  const inRange = and(eq(messages.appId, appId), gte(messages.createdAt, from), lt(messages.createdAt, to));
  const lapsed = sql<number>`(${messages.expiresAt} IS NOT NULL AND ${messages.expiresAt} <= ${now})`;

  // Topic messages count as messages; their targets are tracked per message (topicTargets), not here.
  const deviceTargets = sql<number>`coalesce(sum(CASE WHEN ${messages.id} IN (SELECT ${topicMessages.messageId} FROM ${topicMessages}) THEN 0 ELSE ${messages.targetCount} END), 0)`;
  const [totals] = await db.select({ messages: sql<number>`count(*)`, targets: deviceTargets }).from(messages).where(inRange);
  const inboxCounts = await db
    .select({ state: inbox.state, lapsed, count: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(inbox, eq(inbox.messageId, messages.id))
    .where(inRange)
    .groupBy(inbox.state, lapsed);
  const deferredCounts = await db
    .select({ state: deferredTargets.state, reason: deferredTargets.reason, lapsed, count: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(deferredTargets, eq(deferredTargets.messageId, messages.id))
    .where(inRange)
    .groupBy(deferredTargets.state, deferredTargets.reason, lapsed);
  return {
    messages: totals?.messages ?? 0,
    targets: totals?.targets ?? 0,
    counts: [
      ...inboxCounts.map((r) => ({ state: inboxState(r.state), reason: null, lapsed: r.lapsed === 1, inInbox: true, count: r.count })),
      ...deferredCounts.map((r) => ({ state: deferredState(r.state), reason: r.reason, lapsed: r.lapsed === 1, inInbox: false, count: r.count })),
    ],
    latencyMs: await latencyPercentiles(db, inRange),
  };
}

async function latencyPercentiles(db: Db, inRange: ReturnType<typeof and>): Promise<Percentiles> {
  const latency = sql<number>`(${inbox.deliveredAt} - coalesce(${releasedTargets.releasedAt}, ${messages.createdAt}))`;
  const delivered = () =>
    db
      .select({ latency })
      .from(messages)
      .innerJoin(inbox, eq(inbox.messageId, messages.id))
      .leftJoin(releasedTargets, and(eq(releasedTargets.messageId, inbox.messageId), eq(releasedTargets.deviceId, inbox.deviceId)))
      .where(and(inRange, eq(inbox.state, InboxState.delivered), sql`${inbox.deliveredAt} IS NOT NULL`))
      .$dynamic();
  const [counted] = await db.select({ n: sql<number>`count(*)` }).from(delivered().as("delivered"));
  const count = counted?.n ?? 0;
  if (count === 0) return { count, p50: null, p90: null, p99: null, max: null };
  // Nearest-rank percentiles: one ordered read per figure, so no range loads every row into memory.
  const at = async (rank: number) => {
    const [row] = await delivered().orderBy(asc(latency)).limit(1).offset(rank);
    return row ? Math.max(0, row.latency) : null;
  };
  const rank = (p: number) => Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1));
  return { count, p50: await at(rank(0.5)), p90: await at(rank(0.9)), p99: await at(rank(0.99)), max: await at(count - 1) };
}
