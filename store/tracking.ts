// Tracking and reports: per-target states of one message, and an app's figures over a time range.
// A target is either an inbox row (it got a sequence) or a deferred row (scheduled, held,
// suppressed, expired before release); together they are every target exactly once.
import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { DeferredState, deferredTargets, InboxState, inbox, messages, releasedTargets } from "./schema.ts";
import type { Db, MessageStatus, Store } from "./libsql-store.ts";

export type TargetState = "pending" | "delivered" | "expired" | "collapsed" | "suppressed" | "scheduled" | "held";

export type TargetTracking = {
  deviceId: string;
  state: TargetState;
  /** The device's sequence for the message; null while it has none (scheduled, held, suppressed). */
  seq: number | null;
  /** Why it is not delivered: schedule, quiet_hours, muted, frequency_cap, ttl; null otherwise. */
  reason: string | null;
  /** When it entered the device's inbox. */
  queuedAt: number | null;
  deliveredAt: number | null;
  /** When a scheduled or held target is due, or when it was suppressed or expired. */
  at: number | null;
};

/** Final and inbox states; the waiting ones are counted apart, so this shape stays what it was before schedules. */
export type StateCounts = Record<Exclude<TargetState, "scheduled" | "held">, number>;
export type WaitingCounts = { scheduled: number; held: number };
type AllCounts = StateCounts & WaitingCounts;

export type MessageTracking = Omit<MessageStatus, "states"> & {
  priority: number;
  category: string | null;
  states: StateCounts;
  waiting: WaitingCounts;
  suppressedBy: { muted: number; frequency_cap: number };
  recipients: TargetTracking[];
  recipientsTruncated: boolean;
};

export type AppStats = {
  from: number;
  to: number;
  messages: number;
  targets: number;
  /** Targets that got an inbox row: handed to the relays. */
  sent: number;
  states: StateCounts;
  waiting: WaitingCounts;
  suppressedBy: { muted: number; frequency_cap: number };
  /** From entering the inbox to the relay recording the device's ack (acks are written in batches). */
  latencyMs: { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };
};

const INBOX_NAMES = Object.fromEntries(Object.entries(InboxState).map(([n, c]) => [c, n])) as Record<number, TargetState>;
const DEFERRED_NAMES = Object.fromEntries(Object.entries(DeferredState).map(([n, c]) => [c, n])) as Record<number, TargetState>;

const zeroCounts = (): AllCounts => ({ pending: 0, delivered: 0, expired: 0, collapsed: 0, suppressed: 0, scheduled: 0, held: 0 });

function splitCounts(all: AllCounts): { states: StateCounts; waiting: WaitingCounts } {
  const { scheduled, held, ...states } = all;
  return { states, waiting: { scheduled, held } };
}

/** A waiting or pending target whose message has lapsed counts as expired, as the relay would find it. */
function effectiveState(state: TargetState, lapsed: boolean): TargetState {
  return lapsed && (state === "pending" || state === "scheduled" || state === "held") ? "expired" : state;
}

export async function trackMessage(store: Store, appId: string, messageId: string, now: number, limit: number): Promise<MessageTracking | null> {
  const status = await store.messageStatus(appId, messageId, now);
  if (!status) return null;
  const { db } = store;
  const [message] = await db
    .select({ priority: messages.priority, category: messages.category, expiresAt: messages.expiresAt })
    .from(messages)
    .where(eq(messages.id, messageId));
  const lapsed = message?.expiresAt != null && message.expiresAt <= now;

  const states: AllCounts = { ...zeroCounts(), ...status.states };
  const suppressedBy = { muted: 0, frequency_cap: 0 };
  const deferredCounts = await db
    .select({ state: deferredTargets.state, reason: deferredTargets.reason, count: sql<number>`count(*)` })
    .from(deferredTargets)
    .where(eq(deferredTargets.messageId, messageId))
    .groupBy(deferredTargets.state, deferredTargets.reason);
  for (const { state, reason, count } of deferredCounts) {
    const name = effectiveState(DEFERRED_NAMES[state] ?? "scheduled", lapsed);
    states[name] += count;
    if (name === "suppressed" && (reason === "muted" || reason === "frequency_cap")) suppressedBy[reason] += count;
  }

  const inboxRows = await db
    .select({
      deviceId: inbox.deviceId,
      seq: inbox.seq,
      state: inbox.state,
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
  const createdAt = status.createdAt;
  const recipients: TargetTracking[] = [
    ...inboxRows.map((r) => ({
      deviceId: r.deviceId,
      state: effectiveState(INBOX_NAMES[r.state] ?? "pending", lapsed),
      seq: r.seq,
      reason: null,
      queuedAt: r.releasedAt ?? createdAt,
      deliveredAt: r.deliveredAt,
      at: null,
    })),
    ...deferredRows.map((r) => {
      const state = effectiveState(DEFERRED_NAMES[r.state] ?? "scheduled", lapsed);
      return {
        deviceId: r.deviceId,
        state,
        seq: null,
        reason: state === "expired" ? "ttl" : r.reason,
        queuedAt: null,
        deliveredAt: null,
        at: r.releaseAt,
      };
    }),
  ];
  return {
    ...status,
    priority: message?.priority ?? 1,
    category: message?.category ?? null,
    ...splitCounts(states),
    suppressedBy,
    recipients: recipients.slice(0, limit),
    recipientsTruncated: recipients.length > limit,
  };
}

/** Figures for the messages an app created in [from, to). */
export async function appStats(db: Db, appId: string, from: number, to: number, now: number): Promise<AppStats> {
  const inRange = and(eq(messages.appId, appId), gte(messages.createdAt, from), lt(messages.createdAt, to));
  const lapsed = sql`(${messages.expiresAt} IS NOT NULL AND ${messages.expiresAt} <= ${now})`;

  const [totals] = await db
    .select({ messages: sql<number>`count(*)`, targets: sql<number>`coalesce(sum(${messages.targetCount}), 0)` })
    .from(messages)
    .where(inRange);
  const states = zeroCounts();
  const suppressedBy = { muted: 0, frequency_cap: 0 };
  let sent = 0;

  const inboxCounts = await db
    .select({ state: inbox.state, lapsed: sql<number>`${lapsed}`, count: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(inbox, eq(inbox.messageId, messages.id))
    .where(inRange)
    .groupBy(inbox.state, lapsed);
  for (const r of inboxCounts) {
    states[effectiveState(INBOX_NAMES[r.state] ?? "pending", r.lapsed === 1)] += r.count;
    sent += r.count;
  }
  const deferredCounts = await db
    .select({ state: deferredTargets.state, reason: deferredTargets.reason, lapsed: sql<number>`${lapsed}`, count: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(deferredTargets, eq(deferredTargets.messageId, messages.id))
    .where(inRange)
    .groupBy(deferredTargets.state, deferredTargets.reason, lapsed);
  for (const r of deferredCounts) {
    const name = effectiveState(DEFERRED_NAMES[r.state] ?? "scheduled", r.lapsed === 1);
    states[name] += r.count;
    if (name === "suppressed" && (r.reason === "muted" || r.reason === "frequency_cap")) suppressedBy[r.reason] += r.count;
  }

  return {
    from,
    to,
    messages: totals?.messages ?? 0,
    targets: totals?.targets ?? 0,
    sent,
    ...splitCounts(states),
    suppressedBy,
    latencyMs: await latencyPercentiles(db, inRange),
  };
}

async function latencyPercentiles(db: Db, inRange: ReturnType<typeof and>): Promise<AppStats["latencyMs"]> {
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
