// The Upstash REST bridge against a real Redis: raw HTTP for the protocol's shapes (auth, single
// command in both forms, pipeline, transaction, errors, base64), then @upstash/redis itself with its
// default settings (base64 replies, auto-pipelining, JSON values), since that client is the user.
import { expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { EngineUnavailable, EngineUnsupported } from "../../engines/errors.ts";
import { RestEngine } from "../../engines/rest.ts";
import { startUpstashBridge, type UpstashBridge } from "../upstash-bridge.ts";
import { startRedis } from "../../test-support/redis.ts";

const TOKEN = "bridge-token";

function client(bridge: UpstashBridge) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${bridge.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
}

test("auth: no token or a wrong one is 401; the bearer header or ?_token passes", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = (headers: Record<string, string>, query = "") => fetch(`${bridge.url}/ping${query}`, { headers });
  expect((await call({})).status).toBe(401);
  expect(await (await call({})).json()).toEqual({ error: "Unauthorized" });
  expect((await call({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
  expect((await call({ authorization: TOKEN })).status).toBe(401);
  expect(await (await call({ authorization: `Bearer ${TOKEN}` })).json()).toEqual({ result: "PONG" });
  expect(await (await call({}, `?_token=${TOKEN}`)).json()).toEqual({ result: "PONG" });
});

test("single commands: JSON array body, path form, POST body as last argument with query options", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = client(bridge);
  expect(await call("POST", "/", ["SET", "k", "v", "PX", 60_000])).toEqual({ status: 200, body: { result: "OK" } });
  expect(await call("GET", "/get/k")).toEqual({ status: 200, body: { result: "v" } });
  expect(await call("GET", "/set/sp%20ace/a%2Fb")).toEqual({ status: 200, body: { result: "OK" } });
  expect(await call("GET", "/get/sp%20ace")).toEqual({ status: 200, body: { result: "a/b" } });
  expect(await call("POST", "/set/json?EX=100", '{"a":1}')).toEqual({ status: 200, body: { result: "OK" } });
  expect(await call("GET", "/get/json")).toEqual({ status: 200, body: { result: '{"a":1}' } });
  const ttl = await call("GET", "/ttl/json");
  expect(ttl.body.result).toBeGreaterThan(90);
  expect(await call("GET", "/get/missing")).toEqual({ status: 200, body: { result: null } });
  // Bun speaks RESP3; replies are shaped as RESP2 gives them, as Upstash does.
  await call("POST", "/", ["HSET", "h", "f", "1"]);
  expect(await call("GET", "/hgetall/h")).toEqual({ status: 200, body: { result: ["f", "1"] } });
  await call("POST", "/", ["ZADD", "z", "1.5", "m"]);
  expect(await call("GET", "/zscore/z/m")).toEqual({ status: 200, body: { result: "1.5" } });
});

test("errors: an unknown command, a refused one, bad JSON, a wrong method, Redis gone", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = client(bridge);
  const unknown = await call("POST", "/", ["NOPE", "x"]);
  expect(unknown.status).toBe(400);
  expect(Object.keys(unknown.body)).toEqual(["error"]);
  expect(unknown.body.error).toStartWith("ERR unknown command 'NOPE'");
  expect(await call("POST", "/", ["SUBSCRIBE", "ch"])).toEqual({ status: 400, body: { error: "ERR command 'SUBSCRIBE' is not supported over REST" } });
  expect((await call("POST", "/", "[not json")).status).toBe(400);
  expect((await call("POST", "/", [])).status).toBe(400);
  expect((await call("POST", "/", ["SET", "k", { a: 1 }])).status).toBe(400);
  expect((await call("DELETE", "/get/k")).status).toBe(405);
  await redis.kill();
  const down = await call("GET", "/get/k");
  expect(down.status).toBe(503);
  expect(down.body.error).toStartWith("Service Unavailable");
});

test("pipeline: one answer per command, in order, errors in place", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = client(bridge);
  const res = await call("POST", "/pipeline", [["SET", "k", "v"], ["INCR", "k"], ["GET", "k"], ["RPUSH", "l", "a", "b"], ["LRANGE", "l", 0, -1]]);
  expect(res.status).toBe(200);
  expect(res.body).toEqual([
    { result: "OK" },
    { error: "ERR value is not an integer or out of range" },
    { result: "v" },
    { result: 2 },
    { result: ["a", "b"] },
  ]);
  expect((await call("POST", "/pipeline", [["GET", "k"], ["WATCH", "k"]])).status).toBe(400);
  expect((await call("GET", "/pipeline")).status).toBe(405);
});

test("transaction: atomic, with per-command results; a command that cannot be queued aborts it all", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = client(bridge);
  const done = await call("POST", "/multi-exec", [["SET", "a", "1"], ["INCR", "a"], ["HGET", "a", "f"]]);
  expect(done.status).toBe(200);
  expect(done.body).toEqual([{ result: "OK" }, { result: 2 }, { error: "WRONGTYPE Operation against a key holding the wrong kind of value" }]);
  const aborted = await call("POST", "/multi-exec", [["SET", "x", "1"], ["SET", "y"]]);
  expect(aborted.status).toBe(400);
  expect(aborted.body.error).toStartWith("EXECABORT");
  expect(await call("GET", "/exists/x")).toEqual({ status: 200, body: { result: 0 } });
  // Transactions do not leak into each other or into plain requests.
  const [t1, t2, plain] = await Promise.all([
    call("POST", "/multi-exec", [["INCR", "n"], ["INCR", "n"]]),
    call("POST", "/multi-exec", [["INCR", "n"], ["INCR", "n"]]),
    call("GET", "/set/p/1"),
  ]);
  expect([t1.body, t2.body].map((b: { result: number }[]) => b.map((e) => e.result)).sort()).toEqual([
    [1, 2],
    [3, 4],
  ]);
  expect(plain.body).toEqual({ result: "OK" });
});

test("base64: every string of a result is base64 of its UTF-8 bytes, except a plain OK", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const call = client(bridge);
  const b64 = { "Upstash-Encoding": "base64" };
  expect((await call("POST", "/", ["SET", "k", "héllo ✓"], b64)).body).toEqual({ result: "OK" });
  expect((await call("GET", "/get/k", undefined, b64)).body).toEqual({ result: Buffer.from("héllo ✓").toString("base64") });
  expect((await call("POST", "/pipeline", [["MGET", "k", "none"], ["INCR", "n"]], b64)).body).toEqual([
    { result: [Buffer.from("héllo ✓").toString("base64"), null] },
    { result: 1 },
  ]);
});

test("@upstash/redis with its defaults works against the bridge", async () => {
  await using redis = await startRedis();
  await using bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const upstash = new Redis({ url: bridge.url, token: TOKEN, enableTelemetry: false });
  expect(await upstash.set("k", { a: 1, text: "héllo" })).toBe("OK");
  expect(await upstash.get("k")).toEqual({ a: 1, text: "héllo" });
  // The client auto-pipelines: every command here travels in a POST /pipeline.
  const together = await Promise.all([upstash.incr("n"), upstash.hset("h", { f: "v", g: 2 }), upstash.get("k")]);
  expect(together).toEqual([1, 2, { a: 1, text: "héllo" }]);
  expect(await upstash.hgetall("h")).toEqual({ f: "v", g: 2 });
  expect(await upstash.multi().set("t", "1").incr("t").get("t").exec()).toEqual(["OK", 2, 2]);
  expect(await upstash.eval("return {KEYS[1], ARGV[1]}", ["key"], ["arg"])).toEqual(["key", "arg"]);
});

test("RestEngine: subscribing is refused by name; a bridge that is gone or a wrong token is EngineUnavailable", async () => {
  await using redis = await startRedis();
  const bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const engine = new RestEngine({ url: bridge.url, token: TOKEN });
  const impostor = new RestEngine({ url: bridge.url, token: "wrong" });
  try {
    await expect(engine.subscribe("n1", () => {})).rejects.toBeInstanceOf(EngineUnsupported);
    await expect(engine.onTopic(() => {})).rejects.toBeInstanceOf(EngineUnsupported);
    expect(await engine.getPresence(["app/d"])).toEqual([null]);
    await expect(impostor.getPresence(["app/d"])).rejects.toBeInstanceOf(EngineUnavailable);
    await bridge.stop();
    const started = performance.now();
    await expect(engine.publish("n1", [{ kind: "kick", appId: "a", deviceId: "d", sessionId: "s" }])).rejects.toBeInstanceOf(EngineUnavailable);
    expect(performance.now() - started).toBeLessThan(1000);
  } finally {
    await bridge.stop();
    await engine.close();
  }
});
