import { expect, test } from "bun:test";
import { ReplacedBackoff } from "./replaced-backoff.ts";

test("each replacement in a row waits twice as long, up to the cap, jittered within [half, whole]", () => {
  const low = new ReplacedBackoff({ minMs: 5_000, maxMs: 60_000 }, () => 0);
  const high = new ReplacedBackoff({ minMs: 5_000, maxMs: 60_000 }, () => 1);
  const now = 1_000_000;
  const waits = (b: ReplacedBackoff) => Array.from({ length: 6 }, (_, i) => b.next(now + i * 1000 - 500, now + i * 1000));
  expect(waits(low)).toEqual([2_500, 5_000, 10_000, 20_000, 30_000, 30_000]);
  expect(waits(high)).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
});

test("a session that held for longer than the cap starts the count again", () => {
  const backoff = new ReplacedBackoff({ minMs: 5_000, maxMs: 60_000 }, () => 1);
  expect(backoff.next(0, 1_000)).toBe(5_000);
  expect(backoff.next(7_000, 8_000)).toBe(10_000);
  expect(backoff.next(20_000, 20_000 + 60_001)).toBe(5_000);
});
