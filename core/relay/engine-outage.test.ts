import { expect, test } from "bun:test";
import { EngineWatch } from "./engine-outage.ts";

test("a relay with a working engine does not poll, not even right after its first subscription", () => {
  const watch = new EngineWatch(5000);
  expect(watch.shouldPoll(0)).toBe(false);
  watch.link(true, 0);
  watch.subscription(true, 0);
  expect(watch.shouldPoll(1)).toBe(false);
});

test("polling runs while the engine's link is down and for the recovery time after it is back", () => {
  const watch = new EngineWatch(5000);
  watch.link(false, 1000);
  expect(watch.away).toBe(true);
  expect(watch.shouldPoll(60_000)).toBe(true);
  watch.link(true, 60_000);
  expect(watch.away).toBe(false);
  expect(watch.shouldPoll(64_999)).toBe(true);
  expect(watch.shouldPoll(65_000)).toBe(false);
});

test("a failed subscription polls until one is made, then for the recovery time", () => {
  const watch = new EngineWatch(5000);
  watch.subscription(false, 0);
  expect(watch.shouldPoll(30_000)).toBe(true);
  watch.subscription(true, 30_000);
  expect(watch.shouldPoll(34_000)).toBe(true);
  expect(watch.shouldPoll(35_001)).toBe(false);
});

test("the link coming back while the subscription is still missing keeps polling", () => {
  const watch = new EngineWatch(5000);
  watch.link(false, 0);
  watch.subscription(false, 0);
  watch.link(true, 1000);
  expect(watch.shouldPoll(10_000)).toBe(true);
  watch.subscription(true, 10_000);
  expect(watch.shouldPoll(14_000)).toBe(true);
  expect(watch.shouldPoll(15_000)).toBe(false);
});

test("a failed engine call polls for the recovery time from the latest failure", () => {
  const watch = new EngineWatch(5000);
  watch.callFailed(0);
  expect(watch.away).toBe(false);
  expect(watch.shouldPoll(4000)).toBe(true);
  watch.callFailed(4000);
  expect(watch.shouldPoll(8999)).toBe(true);
  expect(watch.shouldPoll(9000)).toBe(false);
});
