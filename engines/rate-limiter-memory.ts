// Per-key budgets over fixed windows: per-app request rates and message quotas. Memory in one
// process; a Redis limiter (INCRBY + PEXPIRE per window key) takes the same interface later.

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
