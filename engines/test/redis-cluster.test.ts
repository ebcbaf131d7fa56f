// Distributed mode end to end, on real parts: two relay nodes each with their own RedisEngine (TCP),
// an edge whose engine and rate limiter speak REST through the Upstash bridge, one store, one
// redis-server. A send through the edge reaches devices on either relay by the Redis signal path;
// with Redis killed, the edge still accepts and stores, and the heartbeat gap delivers.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../core/config.ts";
import { FailOpenRateLimiter } from "../fail-open-limiter.ts";
import { RestEngine, RestRateLimiter } from "../rest.ts";
import { createEdgeApp } from "../../edge/app.ts";
import { openStore } from "../../store/open.ts";
import { silentLog } from "../../ops/log.ts";
import { ensureDemoApp } from "../../ops/mesh.ts";
import { RedisEngine } from "../redis.ts";
import { startRelayNode } from "../../relay/relay-node.ts";
import { startUpstashBridge } from "../../ops/upstash-bridge.ts";
import { connectDevice, tempDir } from "../../test-support/harness.ts";
import { startRedis } from "../../test-support/redis.ts";

const TOKEN = "cluster-token";

async function startCluster() {
  const dir = tempDir();
  const redis = await startRedis();
  const bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const base = { db: `file:${join(dir.path, "store.db")}`, dbSync: "normal" as const, edgePort: 0, wsPort: 0, tcpPort: 0 };
  const config = parseConfig({ ...base, nodeId: "relay-a" });
  const store = await openStore(config);
  const fast = { retryMinMs: 20, retryMaxMs: 100, connectTimeoutMs: 300, commandTimeoutMs: 300 };
  const engines = [new RedisEngine({ url: redis.url, ...fast }), new RedisEngine({ url: redis.url, ...fast })];
  const relays = [
    await startRelayNode(config, { store, engine: engines[0]!, log: silentLog }),
    await startRelayNode(parseConfig({ ...base, nodeId: "relay-b" }), { store, engine: engines[1]!, log: silentLog }),
  ];
  const edgeEngine = new RestEngine({ url: bridge.url, token: TOKEN, timeoutMs: 500 });
  const limiter = new FailOpenRateLimiter(new RestRateLimiter({ url: bridge.url, token: TOKEN, timeoutMs: 500 }));
  const edgeLog: string[] = [];
  const app = createEdgeApp({ store, engine: edgeEngine, config, limiter, log: (event) => edgeLog.push(event) });
  const edge = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const { apiKey } = await ensureDemoApp(store);
  const api = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${edge.port}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    redis,
    relays,
    edgeLog,
    api,
    async [Symbol.asyncDispose]() {
      await edge.stop(true);
      await Promise.all(relays.map((r) => r.stop()));
      await Promise.all([...engines, edgeEngine, limiter].map((e) => e.close()));
      store.close();
      await bridge.stop();
      await redis[Symbol.asyncDispose]();
      dir[Symbol.dispose]();
    },
  };
}

test("a send through the REST edge reaches devices on both relays by Redis signals", async () => {
  await using cluster = await startCluster();
  const [a, b] = cluster.relays;
  const creds = await Promise.all(["phone-a", "phone-b"].map(async (deviceId) => (await cluster.api("/v1/devices", { deviceId })).body));
  // Heartbeats ten minutes apart: within this test only a signal can bring the message.
  await using onA = await connectDevice(a!.ws, creds[0], { heartbeat: 600 });
  await using onB = await connectDevice(b!.tcp, creds[1], { heartbeat: 600, transport: "tcp" });
  await onA.waitForEvent("connected");
  await onB.waitForEvent("connected");
  const started = performance.now();
  const sent = await cluster.api("/v1/messages", { to: { deviceIds: ["phone-a", "phone-b"] }, data: { hello: "cluster" } });
  expect(sent.status).toBe(202);
  await onA.waitFor(1, 3000);
  await onB.waitFor(1, 3000);
  const latencyMs = performance.now() - started;
  expect(onA.received.map((m) => m.data)).toEqual([{ hello: "cluster" }]);
  expect(onB.received.map((m) => m.data)).toEqual([{ hello: "cluster" }]);
  console.log(`cluster: POST /v1/messages to both devices received in ${latencyMs.toFixed(1)} ms`);
});

test("Redis killed: the edge still accepts and stores; the device's heartbeat brings the message", async () => {
  await using cluster = await startCluster();
  const creds = (await cluster.api("/v1/devices", { deviceId: "phone" })).body;
  await using device = await connectDevice(cluster.relays[0]!.ws, creds, { heartbeat: 5 });
  await device.waitForEvent("connected");
  await cluster.redis.kill();
  const started = performance.now();
  const sent = await cluster.api("/v1/messages", { to: { deviceId: "phone" }, data: { during: "outage" } });
  const acceptMs = performance.now() - started;
  expect(sent.status).toBe(202);
  expect(acceptMs).toBeLessThan(1000);
  expect(cluster.edgeLog).toContain("signal_failed");
  await device.waitFor(1, 12_000);
  expect(device.received.map((m) => m.data)).toEqual([{ during: "outage" }]);
  console.log(`cluster: send accepted in ${acceptMs.toFixed(1)} ms with Redis down; delivered by heartbeat after ${(performance.now() - started).toFixed(0)} ms`);
}, 20_000);
