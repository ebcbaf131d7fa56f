// Tracking and reports: a message's targets and an app's figures as a reader sees them. The store
// answers what it recorded; core/lifecycle.ts decides what a lapsed target has become.
import { effectiveState, isLapsed, type TargetState } from "./lifecycle.ts";
import type { ChannelDelivery, FallbackStatus } from "./last-mile-store.ts";
import type { Percentiles, StateCount, Store, TargetRecord } from "./store.ts";

/** Final and inbox states; the waiting ones are counted apart, so this shape stays what it was before schedules. */
export type StateCounts = Record<Exclude<TargetState, "scheduled" | "held">, number>;
export type WaitingCounts = { scheduled: number; held: number };
export type SuppressedBy = { muted: number; frequency_cap: number };

export type MessageTracking = {
  messageId: string;
  /** For a topic message: its topic and offset; its targets are the topic's subscribers when it was published. */
  topic?: string;
  offset?: number;
  createdAt: number;
  expiresAt: number | null;
  targets: number;
  priority: number;
  category: string | null;
  states: StateCounts;
  waiting: WaitingCounts;
  suppressedBy: SuppressedBy;
  recipients: (TargetRecord & { channels: Omit<ChannelDelivery, "deviceId">[]; fallback: Omit<FallbackStatus, "deviceId"> | null })[];
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
  suppressedBy: SuppressedBy;
  /** From entering the inbox to the relay recording the device's ack (acks are written in batches). */
  latencyMs: Percentiles;
};

type Tally = { states: StateCounts; waiting: WaitingCounts; suppressedBy: SuppressedBy };

function tally(counts: (StateCount & { lapsed: boolean })[]): Tally {
  const states: StateCounts = { pending: 0, delivered: 0, expired: 0, collapsed: 0, suppressed: 0, failed: 0 };
  const waiting: WaitingCounts = { scheduled: 0, held: 0 };
  const suppressedBy: SuppressedBy = { muted: 0, frequency_cap: 0 };
  for (const { state, reason, lapsed, count } of counts) {
    const seen = effectiveState(state, lapsed);
    if (seen === "scheduled" || seen === "held") waiting[seen] += count;
    else states[seen] += count;
    if (seen === "suppressed" && (reason === "muted" || reason === "frequency_cap")) suppressedBy[reason] += count;
  }
  return { states, waiting, suppressedBy };
}

export async function trackMessage(store: Store, appId: string, messageId: string, now: number, limit: number): Promise<MessageTracking | null> {
  const found = await store.messageTargets(appId, messageId, limit);
  if (!found) return null;
  const { message, counts, targets } = found;
  const lapsed = isLapsed(message.expiresAt, now);
  const shown = targets.slice(0, limit);
  const deviceIds = shown.map((t) => t.deviceId);
  const [deliveries, fallbacks] = await Promise.all([store.channelDeliveries(messageId, deviceIds), store.fallbacksOf(messageId, deviceIds)]);
  const fallbackOf = new Map(fallbacks.map(({ deviceId, ...f }) => [deviceId, f]));
  const recipients = shown.map((t) => {
    const state = effectiveState(t.state, lapsed);
    const channels = deliveries.filter((d) => d.deviceId === t.deviceId).map(({ deviceId: _, ...d }) => d);
    // A waiting target that lapsed is expired for its ttl; an inbox row carries no reason.
    return { ...(state === t.state ? t : { ...t, state, reason: t.seq === null ? "ttl" : t.reason }), channels, fallback: fallbackOf.get(t.deviceId) ?? null };
  });
  return {
    messageId,
    ...(message.topic ? { topic: message.topic.name, offset: message.topic.offset } : {}),
    createdAt: message.createdAt,
    expiresAt: message.expiresAt,
    targets: message.targetCount,
    priority: message.priority,
    category: message.category,
    ...tally(counts.map((c) => ({ ...c, lapsed }))),
    recipients,
    recipientsTruncated: targets.length > limit,
  };
}

/** Figures for the messages an app created in [from, to). */
export async function appStats(store: Store, appId: string, from: number, to: number, now: number): Promise<AppStats> {
  const counts = await store.appCounts(appId, from, to, now);
  const sent = counts.counts.reduce((n, c) => n + (c.inInbox ? c.count : 0), 0);
  return { from, to, messages: counts.messages, targets: counts.targets, sent, ...tally(counts.counts), latencyMs: counts.latencyMs };
}

/** A message split by home, tracked in each home: one answer, its counts summed, its recipients listed up to `limit`. */
export function joinTracking(parts: MessageTracking[], limit: number): MessageTracking | null {
  const [first, ...rest] = parts;
  if (!first) return null;
  if (rest.length === 0) return first;
  const sum = <T extends object>(pick: (p: MessageTracking) => T): T => {
    const total = { ...pick(first) } as Record<string, number>;
    for (const p of rest) for (const [key, n] of Object.entries(pick(p) as Record<string, number>)) total[key] = (total[key] ?? 0) + n;
    return total as T;
  };
  const recipients = parts.flatMap((p) => p.recipients);
  return {
    ...first,
    createdAt: Math.min(...parts.map((p) => p.createdAt)),
    targets: parts.reduce((n, p) => n + p.targets, 0),
    states: sum((p) => p.states),
    waiting: sum((p) => p.waiting),
    suppressedBy: sum((p) => p.suppressedBy),
    recipients: recipients.slice(0, limit),
    recipientsTruncated: recipients.length > limit || parts.some((p) => p.recipientsTruncated),
  };
}
