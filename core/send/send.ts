// The send path, in one pass: validate the request (request.ts) → answer a repeated idempotency
// key → find the targets (targets.ts) → take the app's quota → decide who gets it now
// (decide.ts) → write it durably (write.ts) → signal the relays (signal.ts). A topic send goes
// from validation to topic.ts. Each step lives in one file and none calls back into this one.
import type { Config } from "../config.ts";
import type { Engine, RateLimiter } from "../engine.ts";
import { PushmeshError } from "../errors.ts";
import { sha256Hex, uuidv7 } from "../ids.ts";
import type { Log } from "../log.ts";
import { type NewMessage, StoreConflict, type Store, type TargetDevice } from "../store.ts";
import { type Decision, decideTargets } from "./decide.ts";
import { type DeviceTarget, type SendRequest, type ValidSend, validateSend } from "./request.ts";
import { signalHolders } from "./signal.ts";
import { loadManyTargets, loadTargetDevices, resolveDeviceIds } from "./targets.ts";
import { renderedNotification } from "./template.ts";
import { publishToTopic } from "./topic.ts";
import { writeDecision } from "./write.ts";

export type { SendRequest, SendTarget } from "./request.ts";

export type SendStates = { pending: number; scheduled: number; held: number; suppressed: number; expired: number };

export type SendResult = {
  messageId: string;
  /** For a topic send: the topic and the offset the message took in its stream. */
  topic?: string;
  offset?: number;
  /** Devices the message was addressed to (a topic's subscribers when it was published), whatever became of each. */
  targets: number;
  /** When a scheduled message is due; null: now. */
  deliverAt: number | null;
  states: SendStates;
};

export type SendOutcome = { result: SendResult; replayed: boolean };
export type BatchItemOutcome = { outcome: SendOutcome; error?: undefined } | { outcome?: undefined; error: unknown };

export type SendDeps = {
  store: Store;
  engine: Engine;
  log?: Log;
  config: Pick<Config, "maxPayloadBytes" | "maxTargetsPerSend" | "quotaMessages" | "quotaWindowSeconds">;
  limiter?: RateLimiter;
  /** Told when something becomes due, so a scheduler in this process wakes in time. */
  scheduler?: { wake(at: number): void };
  /** Told when a fallback becomes due, so the fallback worker in this process wakes in time. */
  fallback?: { wake(at: number): void };
};

/** A send checked and decided, its write not made yet; or its answer already (a replay, a topic). */
type Prepared =
  | { answer: SendOutcome }
  | { answer?: undefined; message: NewMessage; decision: Decision; targetCount: number; result: SendResult; key?: { key: string; requestHash: string } };

/** `messageId`: chosen by the caller (an edge spool forwarding what it took earlier); absent: a new one. */
export async function sendMessage(deps: SendDeps, appId: string, request: SendRequest, now = Date.now(), messageId?: string): Promise<SendOutcome> {
  return commit(deps, await prepare(deps, appId, request, now, undefined, messageId));
}

/**
 * Sends each request on its own (one failing does not stop the others), in order: every item is
 * checked and decided first, then all their writes are made at once, so they share group commits
 * and a device named twice gets the messages in request order.
 */
/** `given`: per request, its message id and the time it was taken (an edge spool's forwards); absent: new ids, now. */
export async function sendBatch(deps: SendDeps, appId: string, requests: SendRequest[], given?: { messageId: string; now: number }[]): Promise<BatchItemOutcome[]> {
  const devicesNamed = requests.map((r) => r.to).filter((to): to is DeviceTarget => !("topic" in to));
  const known = await loadManyTargets(deps.store, appId, devicesNamed, deps.config.maxTargetsPerSend);
  const prepared: (Prepared | { error: unknown })[] = [];
  for (const [index, request] of requests.entries()) {
    try {
      const item = given?.[index];
      prepared.push(await prepare(deps, appId, request, item?.now ?? Date.now(), known, item?.messageId));
    } catch (error) {
      prepared.push({ error });
    }
  }
  // No await between these calls: each makes its write before the next one starts.
  const committing = prepared.map((p) => ("error" in p ? Promise.reject(p.error) : commit(deps, p)));
  return Promise.all(committing.map((c) => c.then((outcome) => ({ outcome }), (error: unknown) => ({ error }))));
}

/** Everything of a send up to its write. */
async function prepare(deps: SendDeps, appId: string, request: SendRequest, now: number, known?: Map<string, TargetDevice>, messageId = uuidv7(now)): Promise<Prepared> {
  const valid = validateSend(request, deps.config, now);
  if ("topic" in request.to) {
    await takeQuota(deps, appId, now);
    const rendered = await renderedNotification(deps.store, appId, request, []);
    const sent = await publishToTopic(deps, appId, request.to.topic, rendered ? { ...valid, notification: rendered } : valid, now, messageId);
    const states = { pending: 0, scheduled: 0, held: 0, suppressed: 0, expired: 0 };
    const result = { messageId: sent.messageId, topic: sent.topic, offset: sent.offset, targets: sent.subscribers, deliverAt: null, states };
    return { answer: { result, replayed: false } };
  }

  const key = request.idempotencyKey === undefined ? undefined : { key: request.idempotencyKey, requestHash: await requestHash(request) };
  if (key) {
    const replay = await replayOf(deps.store, appId, key.key, key.requestHash);
    if (replay) return { answer: { result: replay, replayed: true } };
  }

  const deviceIds = await resolveDeviceIds(deps.store, appId, request.to, deps.config.maxTargetsPerSend);
  const targets = await loadTargetDevices(deps.store, appId, deviceIds, "userId" in request.to ? undefined : known);
  await takeQuota(deps, appId, now);

  const rendered = await renderedNotification(deps.store, appId, request, deviceIds);
  const fallback = request.fallback === undefined ? await deps.store.appFallback(appId) : valid.fallback;
  const message = newMessage(appId, messageId, { ...valid, fallback, ...(rendered ? { notification: rendered } : {}) }, now);
  const decision = await decideTargets(deps.store, message, targets, { deliverAt: valid.deliverAt, now });
  return { message, decision, targetCount: targets.length, result: summarize(message.messageId, targets.length, valid.deliverAt, decision), key };
}

/** The durable write, the signal and the scheduler's wake-up. The write is made before the first await. */
async function commit(deps: SendDeps, prepared: Prepared): Promise<SendOutcome> {
  if (prepared.answer) return prepared.answer;
  const { message, decision, targetCount, result, key } = prepared;
  const idempotency = key && { ...key, answer: result };
  let assigned;
  try {
    assigned = await writeDecision(deps.store, message, decision, { targetCount, idempotency, at: message.createdAt }, deps.log);
  } catch (error) {
    if (key && error instanceof StoreConflict) {
      // A concurrent request with the same key won the race: its answer is ours.
      const replay = await replayOf(deps.store, message.appId, key.key, key.requestHash);
      if (replay) return { result: replay, replayed: true };
    }
    // The id is written already: an edge spool forwarded this send before (core/spool-forwarder.ts).
    if (error instanceof PushmeshError || (error instanceof StoreConflict && error.kind === "message_id")) throw error;
    throw new PushmeshError("STORE_UNAVAILABLE", "the store did not take the message; nothing was accepted", { cause: error });
  }
  const absent = await signalHolders(deps.engine, message, assigned, deps.log);
  if (message.fallback) await startFallback(deps, message, absent);
  let wakeAt = Infinity;
  for (const d of decision.deferred) if (d.state === "scheduled" || d.state === "held") wakeAt = Math.min(wakeAt, d.releaseAt);
  if (wakeAt !== Infinity) deps.scheduler?.wake(wakeAt);
  return { result, replayed: false };
}

/** A device without a socket need not wait for `after`: its fallback is due now. */
async function startFallback(deps: SendDeps, message: NewMessage, absent: string[]): Promise<void> {
  const now = Date.now();
  let dueAt = message.createdAt + message.fallback!.afterMs;
  if (absent.length > 0 && dueAt > now) {
    try {
      await deps.store.advanceFallbacks(message.messageId, absent, now);
      dueAt = now;
    } catch (error) {
      // The jobs are written: they fall due at `after` instead.
      deps.log?.("fallback_advance_failed", { messageId: message.messageId, error: String(error) });
    }
  }
  deps.fallback?.wake(dueAt);
}

function newMessage(appId: string, messageId: string, valid: ValidSend, now: number): NewMessage {
  return {
    appId,
    messageId,
    priority: valid.priority,
    data: valid.data,
    collapseKey: valid.collapseKey,
    category: valid.category,
    createdAt: now,
    expiresAt: valid.expiresAt,
    notification: valid.notification,
    fallback: valid.fallback,
  };
}

async function replayOf(store: Store, appId: string, key: string, requestHash: string): Promise<SendResult | null> {
  const found = await store.findIdempotencyKey(appId, key);
  if (!found) return null;
  if (found.requestHash !== requestHash) {
    throw new PushmeshError("IDEMPOTENCY_KEY_REUSED", `idempotency key '${key}' was first used for a different request`);
  }
  return found.answer as SendResult;
}

async function takeQuota(deps: SendDeps, appId: string, now: number): Promise<void> {
  const limit = deps.config.quotaMessages;
  if (limit === undefined || !deps.limiter) return;
  const windowMs = deps.config.quotaWindowSeconds * 1000;
  const decision = await deps.limiter.take(`quota:${appId}`, 1, limit, windowMs, now);
  if (!decision.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new PushmeshError("QUOTA_EXCEEDED", `the app's quota of ${limit} messages per ${deps.config.quotaWindowSeconds} s is used up`, {
      details: { retryAfterSeconds },
    });
  }
}

function summarize(messageId: string, targets: number, deliverAt: number | null, decision: Decision): SendResult {
  const states: SendStates = { pending: decision.deliver.length, scheduled: 0, held: 0, suppressed: 0, expired: 0 };
  for (const d of decision.deferred) states[d.state]++;
  return { messageId, targets, deliverAt, states };
}

/** The request without its key, as canonical JSON, hashed: equal requests hash equal. */
export function requestHash(request: SendRequest): Promise<string> {
  return sha256Hex(canonicalJson({ ...request, idempotencyKey: undefined }));
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
