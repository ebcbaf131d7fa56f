// From a message and its target devices to durable state, in one atomic batch per message (the
// store's group commit may put other messages in the same transaction): preferences decide per
// device (deliver, hold for quiet hours, suppress), frequency caps are taken atomically in the
// store, delivered targets get their sequence and inbox row, the rest a deferred row. Then the
// nodes holding the delivered devices are signalled. Used by a send (core/send.ts) and by the
// scheduler's release (core/schedule.ts).
import { deviceKey, type Engine, type Signal } from "./engine.ts";
import type { Log } from "./log.ts";
import { decide, type FrequencyCap } from "./preferences.ts";
import {
  type DeferredTarget,
  type DeferReason,
  deferStatement,
  releaseFrequency,
  releaseStatements,
  reserveFrequency,
  type Statement,
  type StoredMessage,
} from "../store/deferred.ts";
import type { Assigned } from "../store/inbox-writes.ts";
import type { TargetDevice } from "../store/preferences.ts";
import type { InboxMessage, Store } from "../store/libsql-store.ts";

export type DispatchDeps = { store: Store; engine: Engine; log?: Log };

export type TargetOutcome =
  | { deviceId: string; state: "pending"; seq: number }
  | { deviceId: string; state: "scheduled" | "held"; until: number; reason: DeferReason }
  | { deviceId: string; state: "suppressed" | "expired"; reason: DeferReason };

/** What a new message's batch will write, known before the batch runs (the send's answer). */
export type DispatchSummary = { deliverable: string[]; deferred: DeferredTarget[] };

type Plan = { deliver: { deviceId: string; cap: FrequencyCap | null }[]; deferred: DeferredTarget[] };

/** Applies each device's preferences at `now`. */
function plan(message: StoredMessage, targets: TargetDevice[], now: number): Plan {
  const result: Plan = { deliver: [], deferred: [] };
  for (const { deviceId, prefs } of targets) {
    if (message.expiresAt !== null && message.expiresAt <= now) {
      result.deferred.push({ deviceId, state: "expired", reason: "ttl", releaseAt: now });
      continue;
    }
    const decision = decide(prefs, message, now);
    if (decision.action === "suppress") {
      result.deferred.push({ deviceId, state: "suppressed", reason: decision.reason, releaseAt: now });
    } else if (decision.action === "hold") {
      // Held past its expiry it could never go out: wake at the expiry to record that instead.
      const releaseAt = message.expiresAt === null ? decision.until : Math.min(decision.until, message.expiresAt);
      result.deferred.push({ deviceId, state: "held", reason: "quiet_hours", releaseAt });
    } else {
      result.deliver.push({ deviceId, cap: decision.cap });
    }
  }
  return result;
}

/** Takes frequency-cap slots; devices without room move from `deliver` to suppressed. */
async function applyCaps(store: Store, message: StoredMessage, planned: Plan, now: number): Promise<{ deliverable: string[]; reserved: string[] }> {
  const capped = planned.deliver.filter((d): d is { deviceId: string; cap: FrequencyCap } => d.cap !== null);
  const allowed =
    capped.length === 0 || message.category === null
      ? new Set<string>()
      : await reserveFrequency(store.db, { appId: message.appId, messageId: message.messageId, category: message.category, now }, capped);
  const deliverable: string[] = [];
  for (const { deviceId, cap } of planned.deliver) {
    if (cap === null || allowed.has(deviceId)) deliverable.push(deviceId);
    else planned.deferred.push({ deviceId, state: "suppressed", reason: "frequency_cap", releaseAt: now });
  }
  return { deliverable, reserved: [...allowed] };
}

function outcomes(assigned: { deviceId: string; seq: number }[], deferred: DeferredTarget[]): TargetOutcome[] {
  const result: TargetOutcome[] = assigned.map((a) => ({ deviceId: a.deviceId, state: "pending", seq: a.seq }));
  for (const d of deferred) {
    if (d.state === "scheduled" || d.state === "held") {
      result.push({ deviceId: d.deviceId, state: d.state, until: d.releaseAt, reason: d.reason });
    } else {
      result.push({ deviceId: d.deviceId, state: d.state, reason: d.reason });
    }
  }
  return result;
}

/** A new message's dispatch, decided but not yet written: who gets it now, who waits, the cap slots taken. */
export type DecidedDispatch = DispatchSummary & { message: StoredMessage; targetCount: number; reserved: string[] };

/**
 * Decides a new message. With `deliverAt` in the future every target waits as scheduled
 * (preferences apply at release); otherwise preferences apply now and cap slots are taken.
 */
export async function decideNew(
  deps: DispatchDeps,
  message: StoredMessage,
  targets: TargetDevice[],
  options: { deliverAt: number | null; now: number },
): Promise<DecidedDispatch> {
  const { deliverAt, now } = options;
  const base = { message, targetCount: targets.length };
  if (deliverAt !== null && deliverAt > now) {
    const deferred = targets.map((t): DeferredTarget => ({ deviceId: t.deviceId, state: "scheduled", reason: "schedule", releaseAt: deliverAt }));
    return { ...base, deliverable: [], deferred, reserved: [] };
  }
  const planned = plan(message, targets, now);
  const { deliverable, reserved } = await applyCaps(deps.store, message, planned, now);
  return { ...base, deliverable, deferred: planned.deferred, reserved };
}

/**
 * Writes a decided message in one atomic batch with `also` (the send's own statements, e.g. its
 * idempotency key), then signals the nodes holding the devices. The write joins the store's next
 * group commit before this returns, so writes started one after another commit in that order.
 */
export async function writeDecided(deps: DispatchDeps, decided: DecidedDispatch, also: Statement[], now: number): Promise<TargetOutcome[]> {
  const { message, deferred } = decided;
  const statements = [...also];
  if (deferred.length > 0) statements.push(deferStatement(deps.store.db, message.appId, message.messageId, deferred, now));
  const written = deps.store.write({ message, insertMessage: true, targetCount: decided.targetCount, deviceIds: decided.deliverable, statements });
  return afterWrite(deps, message, decided.reserved, deferred, written);
}

/**
 * Scheduled or held targets whose time came: preferences apply again at `now` (a target may be
 * held anew, or muted since). The batch fails as a whole if another scheduler released any of
 * these targets first; the caller just moves on.
 */
export async function dispatchRelease(
  deps: DispatchDeps,
  message: StoredMessage,
  targets: TargetDevice[],
  gone: string[],
  now: number,
): Promise<TargetOutcome[]> {
  const { store } = deps;
  const planned = plan(message, targets, now);
  for (const deviceId of gone) planned.deferred.push({ deviceId, state: "expired", reason: "ttl", releaseAt: now });
  const { deliverable, reserved } = await applyCaps(store, message, planned, now);
  const statements: Statement[] = [];
  if (deliverable.length > 0) statements.push(...releaseStatements(store.db, message.messageId, deliverable, now));
  if (planned.deferred.length > 0) statements.push(deferStatement(store.db, message.appId, message.messageId, planned.deferred, now));
  if (statements.length === 0) return outcomes([], planned.deferred);
  const written = store.write({ message, insertMessage: false, targetCount: 0, deviceIds: deliverable, statements });
  return afterWrite(deps, message, reserved, planned.deferred, written);
}

async function afterWrite(
  deps: DispatchDeps,
  message: StoredMessage,
  reserved: string[],
  deferred: DeferredTarget[],
  written: Promise<Assigned[]>,
): Promise<TargetOutcome[]> {
  let assigned: Assigned[];
  try {
    assigned = await written;
  } catch (error) {
    await giveBackSlots(deps, message, reserved);
    throw error;
  }
  await signalHolders(deps, message, assigned);
  return outcomes(assigned, deferred);
}

async function giveBackSlots(deps: DispatchDeps, message: StoredMessage, deviceIds: string[]): Promise<void> {
  try {
    await releaseFrequency(deps.store.db, message.appId, message.messageId, deviceIds);
  } catch (error) {
    // A slot kept by mistake only makes the cap stricter for one window.
    deps.log?.("frequency_release_failed", { messageId: message.messageId, error: String(error) });
  }
}

/**
 * Signals the nodes that hold the delivered devices. A lost signal costs latency only. A row a
 * later message of its group collapsed is never pushed, so it is not signalled either.
 */
async function signalHolders(deps: DispatchDeps, message: StoredMessage, written: Assigned[]): Promise<void> {
  const assigned = written.some((a) => a.collapsed) ? written.filter((a) => !a.collapsed) : written;
  if (assigned.length === 0) return;
  const { appId } = message;
  try {
    const inboxMessage: Omit<InboxMessage, "seq"> = {
      messageId: message.messageId,
      priority: message.priority,
      data: JSON.parse(message.data) as unknown,
      collapseKey: message.collapseKey,
      createdAt: message.createdAt,
      expiresAt: message.expiresAt,
    };
    const presences = await deps.engine.getPresence(assigned.map((a) => deviceKey(appId, a.deviceId)));
    const byNode = new Map<string, Signal[]>();
    presences.forEach((presence, i) => {
      if (!presence) return;
      const { deviceId, seq } = assigned[i]!;
      let list = byNode.get(presence.nodeId);
      if (!list) byNode.set(presence.nodeId, (list = []));
      list.push({ kind: "deliver", appId, deviceId, message: { ...inboxMessage, seq } });
    });
    await Promise.all([...byNode].map(([nodeId, signals]) => deps.engine.publish(nodeId, signals)));
  } catch (error) {
    // The message is already durable; the device's next heartbeat closes the gap.
    deps.log?.("signal_failed", { appId, error: String(error) });
  }
}
