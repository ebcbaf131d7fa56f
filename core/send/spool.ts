// Send, or keep the send in the edge's spool (core/spool.ts) when the store would not take it. A
// send is checked first (a bad request is refused, never kept); it is kept when the store is away,
// and also whenever the spool already holds sends, so a later send never overtakes an earlier one
// to the same device. The 202 then says "queued": durable on this edge, not yet in the store.
import { PushmeshError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { SpoolFull, type Spool } from "../spool.ts";
import type { SendRequest } from "./request.ts";
import { validateSend } from "./request.ts";
import { type BatchItemOutcome, requestHash, type SendDeps, type SendOutcome, type SendResult, sendBatch, sendMessage } from "./send.ts";

export type QueuedResult = { messageId: string; state: "queued"; queuedAt: number };
export type SpoolingOutcome = { result: SendResult | QueuedResult; replayed: boolean };
export type SpoolingItemOutcome = { outcome: SpoolingOutcome; error?: undefined } | { outcome?: undefined; error: unknown };

export type SpoolingDeps = SendDeps & {
  spool?: Spool;
  /** A failure of the store itself (unreachable, locked, closed), as opposed to an answer about the request. */
  isStoreOutage?: (error: unknown) => boolean;
  /** Told when a send was kept, so the forwarder starts trying. */
  onSpooled?: () => void;
};

/** How long a 503 SPOOL_FULL asks the caller to wait: the spool drains only once the store is back. */
const SPOOL_FULL_RETRY_SECONDS = 5;

export function storeAway(deps: SpoolingDeps, error: unknown): boolean {
  if (error instanceof PushmeshError) return error.code === "STORE_UNAVAILABLE";
  return deps.isStoreOutage?.(error) ?? false;
}

export type SpoolingOptions = {
  /** When the send was taken: its createdAt. */
  now?: number;
  /** The message's id: a send handed over by another edge keeps the one that edge gave it. */
  messageId?: string;
};

export async function sendOrSpool(deps: SpoolingDeps, appId: string, request: SendRequest, options: SpoolingOptions = {}): Promise<SpoolingOutcome> {
  const now = options.now ?? Date.now();
  const spool = deps.spool;
  if (!spool) return sendMessage(deps, appId, request, now, options.messageId);
  const messageId = options.messageId ?? uuidv7(now);
  if (spool.waiting() === 0) {
    try {
      return await sendMessage(deps, appId, request, now, messageId);
    } catch (error) {
      if (!storeAway(deps, error)) throw error;
      deps.log?.("send_spooled", { appId, messageId, error: String(error) });
    }
  }
  validateSend(request, deps.config, now);
  if (options.messageId) {
    // Handed over again (the other edge did not hear this edge's answer): it is held already.
    const held = await spool.record(appId, messageId);
    if (held?.state === "queued") return { result: { messageId, state: "queued", queuedAt: held.acceptedAt }, replayed: true };
  }
  return keep(deps, spool, appId, request, messageId, now);
}

/** A batch in order: sent as one while the spool is empty; from the first item the store did not take, kept. */
export async function batchOrSpool(deps: SpoolingDeps, appId: string, requests: SendRequest[], given?: { messageId: string; now: number }[]): Promise<SpoolingItemOutcome[]> {
  const spool = deps.spool;
  if (!spool) return sendBatch(deps, appId, requests, given);
  const now = given?.[0]?.now ?? Date.now();
  given ??= requests.map(() => ({ messageId: uuidv7(now), now }));
  let outcomes: (BatchItemOutcome | null)[] = requests.map(() => null);
  if (spool.waiting() === 0) {
    try {
      outcomes = await sendBatch(deps, appId, requests, given);
    } catch (error) {
      // The batch's targets could not be read: every item is kept, or refused, below.
      if (!storeAway(deps, error)) throw error;
    }
  }
  const results: SpoolingItemOutcome[] = [];
  for (const [index, request] of requests.entries()) {
    const sent = outcomes[index];
    if (sent && (sent.outcome || !storeAway(deps, sent.error))) {
      results.push(sent);
      continue;
    }
    try {
      validateSend(request, deps.config, now);
      results.push({ outcome: await keep(deps, spool, appId, request, given[index]!.messageId, given[index]!.now) });
    } catch (error) {
      results.push({ error });
    }
  }
  return results;
}

/** Keeps a send in the spool and answers 202 "queued"; a repeated idempotency key answers its first result. */
export async function keep(
  deps: SpoolingDeps,
  spool: Spool,
  appId: string,
  request: SendRequest,
  messageId: string,
  now: number,
  forwardTo?: string,
): Promise<SendOutcome | SpoolingOutcome> {
  const key = request.idempotencyKey === undefined ? undefined : { key: request.idempotencyKey, requestHash: await requestHash(request) };
  if (key) {
    const queued = await spool.byIdempotencyKey(appId, key.key);
    if (queued) {
      if (queued.requestHash !== key.requestHash) {
        throw new PushmeshError("IDEMPOTENCY_KEY_REUSED", `idempotency key '${key.key}' was first used for a different request`);
      }
      return { result: { messageId: queued.messageId, state: "queued", queuedAt: queued.acceptedAt }, replayed: true };
    }
    // Sent before the store went away: its first answer, from this edge's replica.
    const stored = await deps.store.findIdempotencyKey(appId, key.key).catch(() => null);
    if (stored) {
      if (stored.requestHash !== key.requestHash) {
        throw new PushmeshError("IDEMPOTENCY_KEY_REUSED", `idempotency key '${key.key}' was first used for a different request`);
      }
      return { result: stored.answer as SendResult, replayed: true };
    }
  }
  try {
    await spool.append({ appId, messageId, acceptedAt: now, request, ...(key ? { idempotency: key } : {}), ...(forwardTo ? { forwardTo } : {}) });
  } catch (error) {
    if (error instanceof SpoolFull) {
      throw new PushmeshError("SPOOL_FULL", `the store is away and ${error.message}; nothing was accepted`, {
        cause: error,
        details: { retryAfterSeconds: SPOOL_FULL_RETRY_SECONDS },
      });
    }
    throw new PushmeshError("STORE_UNAVAILABLE", "neither the store nor this edge's spool took the message; nothing was accepted", { cause: error });
  }
  deps.onSpooled?.();
  return { result: { messageId, state: "queued", queuedAt: now }, replayed: false };
}
