// Redis going away mid-stream: the promise is that sends are still accepted (the store has
// them) and delivered by the heartbeat gap until Redis is back. For the engine that means: every call
// fails fast with EngineUnavailable instead of hanging, and subscriptions and this node's presence
// come back by themselves once Redis does. Outages here are real: the server is SIGKILLed and
// started again on the same port, or frozen with SIGSTOP.
import { encodeData } from "../../core/codec.ts";
import { expect, test } from "bun:test";
import { RedisClient } from "bun";
import { eventually } from "../engine.contract.ts";
import type { Engine, Signal } from "../../core/engine.ts";
import { EngineUnavailable } from "../errors.ts";
import { FailOpenRateLimiter } from "../fail-open-limiter.ts";
import { RestEngine } from "../rest.ts";
import { RedisEngine, RedisRateLimiter } from "../redis.ts";
import { startUpstashBridge } from "../../ops/upstash-bridge.ts";
import { startRedis } from "../../test-support/redis.ts";

const deliver = (seq: number): Signal => ({
  kind: "deliver",
  appId: "app",
  deviceId: "d",
  message: { seq, messageId: `m${seq}`, priority: 1, data: encodeData({ seq }), collapseKey: null, createdAt: 1, expiresAt: null },
});
const topic = (offset: number) => ({ appId: "app", topic: "t", offset, message: { messageId: "m", priority: 1 as const, data: encodeData(null), createdAt: 1 } });
const fast = { retryMinMs: 20, retryMaxMs: 100, connectTimeoutMs: 300, commandTimeoutMs: 300 };

function disposable<T extends { close(): Promise<void> }>(value: T): T & AsyncDisposable {
  return Object.assign(value, { [Symbol.asyncDispose]: () => value.close() });
}

/**
 * Resolves with the failure's message and how long `call` took to reject; fails unless it rejected
 * with EngineUnavailable. Whether a call waited is told by its message, not its duration: a busy
 * machine makes any call slow, but only a call that waited out a timeout says so.
 */
async function failsWithUnavailable(call: () => Promise<unknown>): Promise<{ message: string; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineUnavailable);
  return { message: (error as Error).message, ms: performance.now() - started };
}

/** What a call that waited out a timeout says: the link's command timeout, or the REST request's. */
const WAITED = /no answer within|timed out|abort/i;

/** Publishes numbered signals until the subscriber has one past `after`: the first delivery after an outage. */
async function publishUntilDelivered(engine: Engine, got: Signal[], after: number): Promise<number> {
  for (let seq = after + 1; seq < after + 1000; seq++) {
    await engine.publish("n1", [deliver(seq)]).catch(() => {});
    await Bun.sleep(20);
    if (got.some((s) => s.kind === "deliver" && s.message.seq > after)) return seq;
  }
  throw new Error("no delivery after the outage");
}

test("Redis killed and restarted on its port: calls fail fast, then subscriptions and presence come back", async () => {
  await using redis = await startRedis();
  const bridgeLinksUp: unknown[] = [];
  const bridgeLog = (event: string, fields: Record<string, unknown>) => {
    if (event === "redis_link_up") bridgeLinksUp.push(fields.link);
  };
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: "t", log: bridgeLog });
  const logs: string[] = [];
  await using node = disposable(new RedisEngine({ url: redis.url, ...fast, log: (event) => logs.push(event) }));
  await using edge = disposable(new RedisEngine({ url: redis.url, ...fast }));
  await using rest = disposable(new RestEngine({ url: bridge.url, token: "t", timeoutMs: 1000 }));
  await using limiter = disposable(new RedisRateLimiter({ url: redis.url, ...fast }));

  const got: Signal[] = [];
  const offsets: number[] = [];
  await node.subscribe("n1", (s) => got.push(s));
  await node.onTopic((s) => offsets.push(s.offset));
  await node.setPresence("app/held", { nodeId: "n1", sessionId: "s1" });
  const availability: boolean[] = [];
  node.watchAvailability((available) => availability.push(available));
  await edge.publish("n1", [deliver(1)]);
  await eventually(() => got.length === 1, "the first signal");

  await redis.kill();
  const failures = [
    await failsWithUnavailable(() => edge.publish("n1", [deliver(2)])),
    await failsWithUnavailable(() => edge.broadcast(topic(1))),
    await failsWithUnavailable(() => edge.getPresence(["app/held"])),
    await failsWithUnavailable(() => node.setPresence("app/during", { nodeId: "n1", sessionId: "s2" })),
    await failsWithUnavailable(() => node.clearPresence("app/gone", "s0")),
    await failsWithUnavailable(() => node.subscribe("n2", () => {})),
    await failsWithUnavailable(() => limiter.take("app", 1, 10, 1000)),
    await failsWithUnavailable(() => rest.publish("n1", [deliver(2)])),
    await failsWithUnavailable(() => rest.getPresence(["app/held"])),
  ];
  // Fast: every call failed because the connection was gone, none by waiting for an answer that could not come.
  for (const failure of failures) expect(failure.message).not.toMatch(WAITED);
  const slowestMs = Math.max(...failures.map((f) => f.ms));
  // What a relay polls the store on: the engine says it is away once a link has seen the close.
  await eventually(() => availability.at(-1) === false, "the engine to report itself away");

  await redis.restart();
  const restarted = performance.now();
  const resumedAt = await publishUntilDelivered(edge, got, 1);
  const resumeMs = performance.now() - restarted;
  await edge.publish("n1", [deliver(1000), deliver(1001)]);
  await eventually(() => got.at(-1)?.kind === "deliver" && (got.at(-1) as { message: { seq: number } }).message.seq === 1001, "signals after the restart");
  // In order and none twice; the ones published before the subscriber was back are simply missing.
  const seqs = got.map((s) => (s.kind === "deliver" ? s.message.seq : -1));
  expect(seqs.slice(-2)).toEqual([1000, 1001]);
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
  expect(seqs.filter((seq) => seq > 1 && seq < 1000).every((seq) => seq <= resumedAt)).toBe(true);

  // The topic subscription came back too, and REST reaches the node again once the bridge's own
  // link is back: it reconnects on its own backoff (up to 2 s), not when the node's link does.
  expect(offsets).toEqual([]);
  await eventually(() => bridgeLinksUp.includes("bridge"), "the bridge's link to Redis back");
  await rest.broadcast(topic(7));
  await eventually(() => offsets.includes(7), "a topic message after the restart");

  // The restarted Redis is empty; the node wrote back what it holds, including the write lost in the outage.
  let presence: unknown = null;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    presence = await rest.getPresence(["app/held", "app/during"]);
    if (JSON.stringify(presence).includes("s2")) break;
    await Bun.sleep(20);
  }
  expect(presence).toEqual([
    { nodeId: "n1", sessionId: "s1" },
    { nodeId: "n1", sessionId: "s2" },
  ]);
  expect(logs).toContain("redis_link_down");
  expect(logs).toContain("redis_link_up");
  await eventually(() => availability.at(-1) === true, "the engine to report itself back");
  expect(availability[0]).toBe(true);
  console.log(`outage: calls failed in at most ${slowestMs.toFixed(1)} ms; delivery resumed ${resumeMs.toFixed(0)} ms after restart`);
});

test("a frozen Redis (SIGSTOP): calls fail within the command timeout; after SIGCONT the subscriber is back", async () => {
  await using redis = await startRedis();
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const log = (event: string, fields: Record<string, unknown>) => logs.push({ event, fields });
  await using node = disposable(new RedisEngine({ url: redis.url, ...fast, pingIntervalMs: 100, log }));
  await using edge = disposable(new RedisEngine({ url: redis.url, ...fast }));
  const got: Signal[] = [];
  await node.subscribe("n1", (s) => got.push(s));
  await edge.publish("n1", [deliver(1)]);
  await eventually(() => got.length === 1, "the first signal");

  redis.pause();
  try {
    const first = await failsWithUnavailable(() => edge.publish("n1", [deliver(2)]));
    expect(first.message).toContain(`got no answer within ${fast.commandTimeoutMs} ms`);
    // The unanswered command replaced the connection; until a new one is proven, calls do not wait.
    expect((await failsWithUnavailable(() => edge.getPresence(["app/d"]))).message).toContain("not connected; reconnecting");
    // The subscriber sends nothing of its own; its unanswered PING is what tells it the server froze.
    await eventually(() => logs.some((l) => l.event === "redis_link_down" && l.fields.link === "subscriber"), "the subscriber link down");
  } finally {
    redis.resume();
  }
  await publishUntilDelivered(edge, got, 2);
});

test("a signal Redis hands over that no engine wrote is dropped and logged; the subscriber keeps going", async () => {
  await using redis = await startRedis();
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  await using node = disposable(new RedisEngine({ url: redis.url, log: (event, fields) => logs.push({ event, fields }) }));
  await using edge = disposable(new RedisEngine({ url: redis.url }));
  const got: Signal[] = [];
  await node.subscribe("n1", (s) => got.push(s));
  const raw = new RedisClient(redis.url);
  try {
    for (const junk of ["not json", "[3,[],[]]", '[2,[],[[0,"app","d",1,5]]]', '[2,[["m",9,1,null,null,"oA=="]],[[0,"app","d",1,0]]]']) {
      await raw.send("PUBLISH", ["pm:node:n1", junk]);
    }
  } finally {
    raw.close();
  }
  await edge.publish("n1", [deliver(1)]);
  await eventually(() => got.length === 1, "the good signal");
  expect(got).toEqual([deliver(1)]);
  expect(logs.filter((l) => l.event === "engine_message_dropped")).toHaveLength(4);
});

test("presence outlives its TTL while its node refreshes it, and expires once the node is gone", async () => {
  await using redis = await startRedis();
  const node = new RedisEngine({ url: redis.url, presenceTtlMs: 400, presenceRefreshMs: 100 });
  await using edge = disposable(new RedisEngine({ url: redis.url }));
  try {
    await node.setPresence("app/d", { nodeId: "n1", sessionId: "s1" });
    await Bun.sleep(1000);
    expect(await edge.getPresence(["app/d"])).toEqual([{ nodeId: "n1", sessionId: "s1" }]);
  } finally {
    // As a crashed node would: no clear, no more refreshes.
    await node.close();
  }
  let presence: unknown = "unset";
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && presence !== null) {
    presence = (await edge.getPresence(["app/d"]))[0];
    await Bun.sleep(50);
  }
  expect(presence).toBeNull();
});

test("the fail-open limiter lets sends through while Redis is down, once logged, and limits again when it is back", async () => {
  await using redis = await startRedis();
  const logs: string[] = [];
  await using limiter = disposable(new FailOpenRateLimiter(new RedisRateLimiter({ url: redis.url, ...fast }), (event) => logs.push(event)));
  // Windows are aligned to the clock, so two takes a moment apart may straddle a minute boundary
  // and count in different windows: every take here names the start of the current window.
  const now = Date.now() - (Date.now() % 60_000);
  const take = (key: string, limit: number) => limiter.take(key, 1, limit, 60_000, now);
  expect((await take("app", 1)).allowed).toBe(true);
  expect((await take("app", 1)).allowed).toBe(false);
  await redis.kill();
  expect(await take("app", 1)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
  expect((await take("app", 1)).allowed).toBe(true);
  expect(logs).toEqual(["rate_limiter_unavailable"]);
  await redis.restart();
  const deadline = Date.now() + 5000;
  while (!logs.includes("rate_limiter_back") && Date.now() < deadline) {
    await take("other", 1000);
    await Bun.sleep(20);
  }
  expect(logs).toEqual(["rate_limiter_unavailable", "rate_limiter_back"]);
  expect((await take("app", 1)).allowed).toBe(true);
  expect((await take("app", 1)).allowed).toBe(false);
});
