import { expect, test } from "bun:test";
import { noMetrics } from "./metrics.ts";
import { RelaySampler, quantile } from "./sampler.ts";

test("quantile takes the nearest rank, in whole milliseconds, and null for no values", () => {
  expect(quantile([], 0.5)).toBeNull();
  expect(quantile([7.4], 0.99)).toBe(7);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  expect([quantile(hundred, 0.5), quantile(hundred, 0.99)]).toEqual([50, 99]);
});

test("a sample is its minute so far: takes within a minute grow it; the first take in a later minute closes it, then counts start again", () => {
  const sampler = new RelaySampler(noMetrics);
  const node = { nodeId: "relay-1", region: "eu" };
  for (const type of ["PUSH", "TOPIC_PUSH", "PUSH", "HEARTBEAT_ACK"] as const) sampler.frameOut(type, 10);
  for (const ms of [30, 10, 20]) sampler.deliveryLatency(ms);
  expect(sampler.take(node, 120_500)).toEqual({ ...node, at: 120_000, pushed: 3, delivered: 3, p50Ms: 20, p99Ms: 30 });
  sampler.frameOut("PUSH", 10);
  expect(sampler.take(node, 150_000)).toMatchObject({ at: 120_000, pushed: 4, delivered: 3 });
  sampler.frameOut("PUSH", 10);
  expect(sampler.take(node, 180_200)).toMatchObject({ at: 120_000, pushed: 5 });
  expect(sampler.take(node, 200_000)).toEqual({ ...node, at: 180_000, pushed: 0, delivered: 0, p50Ms: null, p99Ms: null });
});
