// The single-node engine and rate limiter: presence, signals and budgets in this process's memory.
import { type DeliverSignal, deviceKey, type Engine, type Presence, type RateDecision, type RateLimiter, type Signal, type SignalHandler, type TopicHandler, type TopicSignal } from "../core/engine.ts";

export class MemoryEngine implements Engine {
  private readonly presence = new Map<string, Presence>();
  private readonly handlers = new Map<string, Set<SignalHandler>>();
  private readonly topicHandlers = new Set<TopicHandler>();

  async setPresence(key: string, presence: Presence): Promise<Presence | null> {
    const previous = this.presence.get(key) ?? null;
    this.presence.set(key, presence);
    return previous;
  }

  async clearPresence(key: string, sessionId: string): Promise<void> {
    if (this.presence.get(key)?.sessionId === sessionId) this.presence.delete(key);
  }

  async getPresence(keys: string[]): Promise<(Presence | null)[]> {
    return keys.map((k) => this.presence.get(k) ?? null);
  }

  async publish(nodeId: string, signals: Signal[]): Promise<void> {
    const handlers = this.handlers.get(nodeId);
    if (!handlers) return;
    for (const handler of handlers) for (const signal of signals) handler(signal);
  }

  async signalHolders(signals: DeliverSignal[]): Promise<boolean[]> {
    return Promise.all(
      signals.map(async (signal) => {
        const holder = this.presence.get(deviceKey(signal.appId, signal.deviceId));
        if (holder) await this.publish(holder.nodeId, [signal]);
        return holder !== undefined;
      }),
    );
  }

  async subscribe(nodeId: string, handler: SignalHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(nodeId);
    if (!set) this.handlers.set(nodeId, (set = new Set()));
    set.add(handler);
    return async () => {
      set.delete(handler);
    };
  }

  async broadcast(signal: TopicSignal): Promise<void> {
    for (const handler of this.topicHandlers) handler(signal);
  }

  async onTopic(handler: TopicHandler): Promise<() => Promise<void>> {
    this.topicHandlers.add(handler);
    return async () => {
      this.topicHandlers.delete(handler);
    };
  }

  async close(): Promise<void> {
    this.presence.clear();
    this.handlers.clear();
    this.topicHandlers.clear();
  }
}

type Window = { start: number; windowMs: number; used: number };

/** Windows are aligned to multiples of `windowMs` since the epoch, as a shared store's keys would be. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();

  async take(key: string, cost: number, limit: number, windowMs: number, now = Date.now()): Promise<RateDecision> {
    const start = now - (now % windowMs);
    let window = this.windows.get(key);
    if (!window || window.start !== start || window.windowMs !== windowMs) {
      if (this.windows.size >= 100_000) this.prune(now);
      window = { start, windowMs, used: 0 };
      this.windows.set(key, window);
    }
    if (window.used + cost > limit) {
      return { allowed: false, remaining: Math.max(0, limit - window.used), retryAfterMs: start + windowMs - now };
    }
    window.used += cost;
    return { allowed: true, remaining: limit - window.used, retryAfterMs: 0 };
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (w.start + w.windowMs <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}
