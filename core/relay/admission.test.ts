import { expect, test } from "bun:test";
import { ConnectRateLimiter, handshakeDelay } from "./admission.ts";

test("an address gets its burst, then waits for tokens to refill", () => {
  const limiter = new ConnectRateLimiter(10, 3);
  expect([0, 0, 0].map(() => limiter.take("a", 1000))).toEqual([0, 0, 0]);
  expect(limiter.take("a", 1000)).toBe(100);
  expect(limiter.take("b", 1000)).toBe(0);
  expect(limiter.take("a", 1100)).toBe(0);
  limiter.sweep(10_000);
  expect(limiter.take("a", 10_000)).toBe(0);
});

test("the handshake delay grows with the excess over soft capacity", () => {
  const c = { capacity: 4_000_000, softCapacity: 3_000_000, softDelayMs: 50 };
  expect(handshakeDelay(2_999_999, c)).toBe(0);
  expect(handshakeDelay(3_100_000, c)).toBe(50);
  expect(handshakeDelay(3_200_000, c)).toBe(100);
  expect(handshakeDelay(1_100, { capacity: 1000, softCapacity: 800, softDelayMs: 50 })).toBe(600);
});
