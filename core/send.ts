// The send path: resolve the targets, check size and limits, answer a repeated idempotency key
// with its first result, then write durably (core/dispatch.ts: preferences, sequences, schedules;
// the store commits concurrent sends' writes together) and signal the nodes holding the devices. A failed signal costs latency only: the device's next
// heartbeat answer carries the latest sequence and the relay pushes the gap.
import { encodeValue } from "./codec.ts";
import type { Config } from "./config.ts";
import { type DecidedDispatch, type DispatchDeps, type DispatchSummary, decideNew, writeDecided } from "./dispatch.ts";
import type { RateLimiter } from "../engines/rate-limiter-memory.ts";
import { PushmeshError } from "./errors.ts";
import { sha256Hex, uuidv7 } from "./ids.ts";
import { Priority, type PriorityName } from "./protocol.ts";
import type { StoredMessage } from "../store/deferred.ts";
import { findIdempotencyKey, insertIdempotencyKey, isUniqueViolation } from "../store/idempotency.ts";
import { devicesOfUser, loadTargets, type TargetDevice } from "../store/preferences.ts";
import { publishToTopic } from "./topics.ts";

/** Who a message goes to. Each form but a topic resolves to a list of the app's devices. */
export type SendTarget = { deviceId: string } | { deviceIds: string[] } | { userId: string } | { topic: string };

export type SendRequest = {
  to: SendTarget;
  data: unknown;
  priority?: PriorityName;
  /** Seconds the message stays deliverable, counted from when it is due; absent: forever. */
  ttl?: number;
  collapseKey?: string;
  /** Label for mutes and frequency caps. */
  category?: string;
  /** A repeat with the same key gets the first answer and never makes a second message. */
  idempotencyKey?: string;
  /** Milliseconds since the epoch before which the message is not delivered. */
  deliverAt?: number;
  /** Seconds from now before which the message is not delivered; the other form of `deliverAt`. */
  delay?: number;
};

export type SendStates = { pending: number; scheduled: number; held: number; suppressed: number; expired: number };

export type SendResult = {
  messageId: string;
  /** For a topic send: the topic and the offset the message took in its stream. */
  topic?: string;
  offset?: number;
  /** Devices the message was addressed to, whatever became of each. */
  targets: number;
  /** When a scheduled message is due; null: now. */
  deliverAt: number | null;
  states: SendStates;
};

export type SendOutcome = { result: SendResult; replayed: boolean };

export type SendDeps = DispatchDeps & {
  config: Pick<Config, "maxPayloadBytes" | "maxTargetsPerSend" | "quotaMessages" | "quotaWindowSeconds">;
  limiter?: RateLimiter;
  /** Told when something becomes due, so a scheduler in this process wakes in time. */
  scheduler?: { wake(at: number): void };
};

const textEncoder = new TextEncoder();
/** The furthest a message may be scheduled: ten years. */
const MAX_HORIZON_MS = 10 * 365 * 24 * 3600 * 1000;

export async function sendMessage(deps: SendDeps, appId: string, request: SendRequest, now = Date.now()): Promise<SendOutcome> {
  return finishSend(deps, appId, request, await prepareSend(deps, appId, request, now));
}

export type BatchItemOutcome = { outcome: SendOutcome; error?: undefined } | { outcome?: undefined; error: unknown };

/**
 * Sends each request on its own (one failing does not stop the others), in order: every item is
 * checked and decided first, then all their writes are queued at once, so they share group commits
 * and a device named twice gets the messages in request order.
 */
export async function sendBatch(deps: SendDeps, appId: string, requests: SendRequest[]): Promise<BatchItemOutcome[]> {
  const known = await loadBatchTargets(deps, appId, requests);
  const prepared: (PreparedSend | { error: unknown })[] = [];
  for (const request of requests) {
    try {
      prepared.push(await prepareSend(deps, appId, request, Date.now(), known));
    } catch (error) {
      prepared.push({ error });
    }
  }
  // No await between these calls: each queues its write before the next is made.
  const finishing = prepared.map((p, n) => ("error" in p ? Promise.reject(p.error) : finishSend(deps, appId, requests[n]!, p)));
  return Promise.all(finishing.map((f) => f.then((outcome) => ({ outcome }), (error: unknown) => ({ error }))));
}

/** A send checked and decided, its write not queued yet; or its answer already (a replay, a topic). */
type PreparedSend =
  | { answer: SendOutcome }
  | { answer?: undefined; decided: DecidedDispatch; result: SendResult; requestHash: string; wakeAt: number; now: number };

/** The targets of a batch's device sends, read in one query. */
async function loadBatchTargets(deps: SendDeps, appId: string, requests: SendRequest[]): Promise<Map<string, TargetDevice>> {
  const ids = new Set<string>();
  for (const { to } of requests) {
    if ("deviceId" in to) ids.add(to.deviceId);
    else if ("deviceIds" in to && to.deviceIds.length <= deps.config.maxTargetsPerSend) for (const id of to.deviceIds) ids.add(id);
  }
  const targets = await loadTargets(deps.store.db, appId, [...ids]);
  return new Map(targets.map((t) => [t.deviceId, t]));
}

/** Everything of a send up to its write: checks, replay, targets, quota, preferences, cap slots. */
async function prepareSend(
  deps: SendDeps,
  appId: string,
  request: SendRequest,
  now: number,
  known?: Map<string, TargetDevice>,
): Promise<PreparedSend> {
  const data = JSON.stringify(request.data ?? null);
  // Both forms count: the JSON kept in the store and the CBOR pushed (floats grow in CBOR).
  const size = Math.max(textEncoder.encode(data).length, encodeValue(request.data ?? null).length);
  if (size > deps.config.maxPayloadBytes) {
    throw new PushmeshError("PAYLOAD_TOO_LARGE", `data is ${size} bytes; the limit is ${deps.config.maxPayloadBytes}`);
  }

  const deliverAt = request.deliverAt ?? (request.delay === undefined ? null : now + request.delay * 1000);
  if (deliverAt !== null && (!Number.isFinite(deliverAt) || deliverAt > now + MAX_HORIZON_MS)) {
    throw new PushmeshError("INVALID_REQUEST", "deliverAt must be a valid time at most ten years ahead");
  }

  if ("topic" in request.to) return { answer: { result: await sendToTopic(deps, appId, request.to.topic, request, now), replayed: false } };

  const requestHash = request.idempotencyKey === undefined ? "" : await sha256Hex(canonicalJson({ ...request, idempotencyKey: undefined }));
  if (request.idempotencyKey !== undefined) {
    const replay = await replayOf(deps, appId, request.idempotencyKey, requestHash);
    if (replay) return { answer: { result: replay, replayed: true } };
  }

  const deviceIds = await resolveDeviceIds(deps, appId, request.to);
  let targets =
    known && !("userId" in request.to)
      ? deviceIds.flatMap((id) => known.get(id) ?? [])
      : await loadTargets(deps.store.db, appId, deviceIds);
  // A device registered a moment ago at another edge may not be in this process's replica yet.
  if (targets.length !== deviceIds.length && (await deps.store.freshen())) targets = await loadTargets(deps.store.db, appId, deviceIds);
  if (targets.length !== deviceIds.length) {
    const found = new Set(targets.map((t) => t.deviceId));
    const missing = deviceIds.filter((d) => !found.has(d));
    throw new PushmeshError("DEVICE_NOT_FOUND", `unknown device(s): ${missing.slice(0, 10).join(", ")}`, {
      details: { deviceIds: missing },
    });
  }
  await takeQuota(deps, appId, now);

  const dueAt = deliverAt !== null && deliverAt > now ? deliverAt : now;
  const message: StoredMessage = {
    appId,
    messageId: uuidv7(now),
    priority: Priority[request.priority ?? "normal"],
    data,
    collapseKey: request.collapseKey ?? null,
    category: request.category ?? null,
    createdAt: now,
    expiresAt: request.ttl === undefined ? null : dueAt + request.ttl * 1000,
  };
  const decided = await decideNew(deps, message, targets, { deliverAt, now });
  const result = summarize(message.messageId, targets.length, dueAt > now ? dueAt : null, decided);
  let wakeAt = Infinity;
  for (const d of decided.deferred) if (d.state === "scheduled" || d.state === "held") wakeAt = Math.min(wakeAt, d.releaseAt);
  return { decided, result, requestHash, wakeAt, now };
}

/**
 * The durable write and what follows it. The write is queued before the first await, so calls
 * made one after another queue theirs in that order (sendBatch relies on it).
 */
async function finishSend(deps: SendDeps, appId: string, request: SendRequest, prepared: PreparedSend): Promise<SendOutcome> {
  if (prepared.answer) return prepared.answer;
  const { decided, result, requestHash, now } = prepared;
  const key = request.idempotencyKey;
  // The key row carries the answer and commits with the message: one never exists without the other.
  const also = key === undefined ? [] : [insertIdempotencyKey({ appId, key, requestHash, messageId: decided.message.messageId, now }, result)];
  try {
    await writeDecided(deps, decided, also, now);
  } catch (error) {
    if (key !== undefined && isUniqueViolation(error)) {
      // A concurrent request with the same key won the race: its answer is ours.
      const replay = await replayOf(deps, appId, key, requestHash);
      if (replay) return { result: replay, replayed: true };
    }
    if (error instanceof PushmeshError) throw error;
    throw new PushmeshError("STORE_UNAVAILABLE", "the store did not take the message; nothing was accepted", { cause: error });
  }
  if (prepared.wakeAt !== Infinity) deps.scheduler?.wake(prepared.wakeAt);
  return { result, replayed: false };
}

/**
 * A topic message is stored once and fanned out by every relay to its subscribers; the options
 * that work per device (scheduling, idempotency, collapsing, preferences) do not apply to it.
 */
async function sendToTopic(deps: SendDeps, appId: string, topic: string, request: SendRequest, now: number): Promise<SendResult> {
  const perDevice = (["deliverAt", "delay", "idempotencyKey", "collapseKey"] as const).filter((k) => request[k] !== undefined);
  if (perDevice.length > 0) throw new PushmeshError("INVALID_REQUEST", `${perDevice.join(", ")} cannot be used with to.topic`);
  await takeQuota(deps, appId, now);
  const sent = await publishToTopic(deps, appId, topic, request, now);
  const subscribers = await deps.store.topics.subscriberCount(appId, topic);
  return {
    messageId: sent.messageId,
    topic,
    offset: sent.offset,
    targets: subscribers,
    deliverAt: null,
    states: { pending: 0, scheduled: 0, held: 0, suppressed: 0, expired: 0 },
  };
}

/** The devices a target names, deduplicated and within the per-send limit. */
export async function resolveDeviceIds(deps: SendDeps, appId: string, to: Exclude<SendTarget, { topic: string }>): Promise<string[]> {
  let deviceIds: string[];
  if ("deviceId" in to) deviceIds = [to.deviceId];
  else if ("deviceIds" in to) deviceIds = [...new Set(to.deviceIds)];
  else {
    deviceIds = await devicesOfUser(deps.store.db, appId, to.userId);
    if (deviceIds.length === 0) throw new PushmeshError("USER_NOT_FOUND", `user ${to.userId} has no registered device`);
  }
  if (deviceIds.length === 0) throw new PushmeshError("INVALID_REQUEST", "no target devices");
  if (deviceIds.length > deps.config.maxTargetsPerSend) {
    throw new PushmeshError("INVALID_REQUEST", `at most ${deps.config.maxTargetsPerSend} devices per send`);
  }
  return deviceIds;
}

async function replayOf(deps: SendDeps, appId: string, key: string, requestHash: string): Promise<SendResult | null> {
  const found = await findIdempotencyKey(deps.store.db, appId, key);
  if (!found) return null;
  if (found.requestHash !== requestHash) {
    throw new PushmeshError("IDEMPOTENCY_KEY_REUSED", `idempotency key '${key}' was first used for a different request`);
  }
  return found.result as SendResult;
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

function summarize(messageId: string, targets: number, deliverAt: number | null, summary: DispatchSummary): SendResult {
  const states: SendStates = { pending: summary.deliverable.length, scheduled: 0, held: 0, suppressed: 0, expired: 0 };
  for (const d of summary.deferred) states[d.state]++;
  return { messageId, targets, deliverAt, states };
}

/** JSON with object keys sorted at every depth, so equal requests hash equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
