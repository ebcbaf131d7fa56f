// A shared limiter that lets requests through while its store is away. Rate limits protect the
// service; refusing every send because Redis is down would turn a Redis outage into a send outage,
// while the durable store can still take them (the product's promise: Redis down, sends accepted).
import { EngineUnavailable } from "./errors.ts";
import type { Log } from "../core/log.ts";
import type { RateDecision, RateLimiter } from "../core/engine.ts";

export class FailOpenRateLimiter implements RateLimiter {
  /** Logged once per outage, not once per request. */
  private failing = false;

  constructor(
    private readonly inner: RateLimiter,
    private readonly log: Log = () => {},
  ) {}

  async take(key: string, cost: number, limit: number, windowMs: number, now?: number): Promise<RateDecision> {
    try {
      const decision = await this.inner.take(key, cost, limit, windowMs, now);
      if (this.failing) this.log("rate_limiter_back", {});
      this.failing = false;
      return decision;
    } catch (error) {
      // Only an outage opens the gate; a refused command is a bug and stays loud.
      if (!(error instanceof EngineUnavailable)) throw error;
      if (!this.failing) this.log("rate_limiter_unavailable", { error: error.message });
      this.failing = true;
      return { allowed: true, remaining: Math.max(0, limit - cost), retryAfterMs: 0 };
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
