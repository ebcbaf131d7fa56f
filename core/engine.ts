// The engine holds what is shared between processes but need not be durable: which node holds
// each device, and the signals that tell a node to push. Memory in one process, Redis in many.
import type { InboxMessage } from "./store.ts";

export type Presence = { nodeId: string; sessionId: string };

/** A message as a signal carries it: its body is the CBOR bytes the relay splices into the frame. */
export type SignalledMessage = Omit<InboxMessage, "data"> & { data: Uint8Array };

/** Carries the whole message so the relay never re-reads the store on the hot path. */
export type DeliverSignal = { kind: "deliver"; appId: string; deviceId: string; message: SignalledMessage };
/** Tells a node to close a device's older session after the device connected elsewhere. */
export type KickSignal = { kind: "kick"; appId: string; deviceId: string; sessionId: string };
/** Tells the node holding a device that the device was (un)subscribed over HTTP; startOffset null: unsubscribed. */
export type SubscriptionSignal = { kind: "subscription"; appId: string; deviceId: string; topic: string; startOffset: number | null };
/** Tells the node holding a device that the device was erased: its session ends (DEVICE_UNKNOWN). */
export type ErasedSignal = { kind: "erased"; appId: string; deviceId: string };
/** Tells the node holding a device that its tokens issued up to `revokedAt` were revoked: a session opened with one ends (TOKEN_REVOKED). */
export type RevokedSignal = { kind: "revoked"; appId: string; deviceId: string; revokedAt: number };
export type Signal = DeliverSignal | KickSignal | SubscriptionSignal | ErasedSignal | RevokedSignal;

/** A topic message for every node: each fans it out to its own subscribed connections. */
export type TopicSignal = {
  appId: string;
  topic: string;
  offset: number;
  message: Omit<SignalledMessage, "seq" | "collapseKey" | "expiresAt">;
};

export type SignalHandler = (signal: Signal) => void;
export type TopicHandler = (signal: TopicSignal) => void;

export interface Engine {
  /** Records that `key` is held by `presence`; returns the presence it replaced, if any. */
  setPresence(key: string, presence: Presence): Promise<Presence | null>;
  /** Forgets `key` only while it still points at `sessionId`, so a late close never erases a newer session. */
  clearPresence(key: string, sessionId: string): Promise<void>;
  getPresence(keys: string[]): Promise<(Presence | null)[]>;
  publish(nodeId: string, signals: Signal[]): Promise<void>;
  /**
   * Each signal to the node holding its device, looked up and published in one step (one round
   * trip to a shared engine): for a few devices, in place of getPresence then publish. Answers,
   * in order, whether each device was held.
   */
  signalHolders(signals: DeliverSignal[]): Promise<boolean[]>;
  /** Delivers signals for `nodeId` to `handler` until the returned function is called. */
  subscribe(nodeId: string, handler: SignalHandler): Promise<() => Promise<void>>;
  /** Sends a topic message to every node's topic handler. */
  broadcast(signal: TopicSignal): Promise<void>;
  onTopic(handler: TopicHandler): Promise<() => Promise<void>>;
  /**
   * For engines on a shared server: calls `handler` at once with whether this process can reach
   * it (so its signals and subscriptions work), then on every change; the returned function stops
   * the calls. A relay polls the store while the answer is false. Memory leaves it out: never away.
   */
  watchAvailability?(handler: (available: boolean) => void): () => void;
  close(): Promise<void>;
}

export const deviceKey = (appId: string, deviceId: string): string => `${appId}/${deviceId}`;

// Per-key budgets over fixed windows: per-app request rates and message quotas.

export type RateDecision = {
  allowed: boolean;
  /** What is left of the budget in this window after this take. */
  remaining: number;
  /** When refused: milliseconds until the window resets. */
  retryAfterMs: number;
};

export interface RateLimiter {
  /**
   * Takes `cost` from `key`'s budget of `limit` per window of `windowMs`. A take that would go past
   * the limit is refused and takes nothing, so a refused caller can retry the same take later.
   */
  take(key: string, cost: number, limit: number, windowMs: number, now?: number): Promise<RateDecision>;
  close(): Promise<void>;
}
