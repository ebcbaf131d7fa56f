// The rate limiter's contract, run against every limiter: memory, Redis over TCP, Redis over REST.
// `peer` is a second limiter on the same store, as another edge would hold (for memory, the same
// object): budgets must be shared between them.
import { describe, expect, test } from "bun:test";
import type { RateLimiter } from "../core/engine.ts";

export type RateLimiterSetup = { limiter: RateLimiter; peer: RateLimiter } & AsyncDisposable;

export function rateLimiterContract(name: string, open: () => Promise<RateLimiterSetup>): void {
  describe(`rate limiter contract: ${name}`, () => {
    test("takes up to the limit, then refuses with the time to the window's end", async () => {
      await using setup = await open();
      const { limiter } = setup;
      const t0 = 1_000_000_000_000; // a multiple of the window: the window starts here
      expect(await limiter.take("app", 3, 5, 1000, t0)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
      expect(await limiter.take("app", 2, 5, 1000, t0 + 100)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(await limiter.take("app", 1, 5, 1000, t0 + 250)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 750 });
    });

    test("a refused take takes nothing; a new window starts afresh", async () => {
      await using setup = await open();
      const { limiter } = setup;
      const t0 = 2_000_000_000_000;
      expect((await limiter.take("k", 4, 5, 1000, t0)).allowed).toBe(true);
      expect((await limiter.take("k", 3, 5, 1000, t0)).allowed).toBe(false);
      expect(await limiter.take("k", 1, 5, 1000, t0)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(await limiter.take("k", 5, 5, 1000, t0 + 1000)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    });

    test("keys have separate budgets", async () => {
      await using setup = await open();
      const { limiter } = setup;
      const t0 = 3_000_000_000_000;
      expect((await limiter.take("a", 1, 1, 60_000, t0)).allowed).toBe(true);
      expect((await limiter.take("a", 1, 1, 60_000, t0)).allowed).toBe(false);
      expect((await limiter.take("b", 1, 1, 60_000, t0)).allowed).toBe(true);
    });

    test("a peer on the same store shares the budget, and concurrent takes never overspend it", async () => {
      await using setup = await open();
      const { limiter, peer } = setup;
      const t0 = 4_000_000_020_000; // a multiple of 60 s
      expect((await limiter.take("app", 3, 5, 60_000, t0)).allowed).toBe(true);
      expect(await peer.take("app", 3, 5, 60_000, t0 + 10)).toEqual({ allowed: false, remaining: 2, retryAfterMs: 59_990 });
      expect(await peer.take("app", 2, 5, 60_000, t0 + 10)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      const takes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? limiter : peer).take("burst", 1, 25, 60_000, t0)),
      );
      expect(takes.filter((d) => d.allowed)).toHaveLength(25);
      expect(takes.filter((d) => d.allowed).map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    });
  });
}
