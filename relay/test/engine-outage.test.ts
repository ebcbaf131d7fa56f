// Delivery while the engine is away: a relay and an edge on a real redis-server that is killed
// mid-test. Sends are still stored; the relay finds them for its connected devices by polling the
// store, so they arrive about a second late instead of at the device's next heartbeat.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../core/config.ts";
import { createEdgeApp } from "../../edge/app.ts";
import { RedisEngine } from "../../engines/redis.ts";
import { ensureDemoApp } from "../../ops/mesh.ts";
import { openStore } from "../../store/open.ts";
import { connectDevice, tempDir } from "../../test-support/harness.ts";
import { startRedis } from "../../test-support/redis.ts";
import { startRelayNode } from "../relay-node.ts";

const fast = { retryMinMs: 20, retryMaxMs: 200, connectTimeoutMs: 300, commandTimeoutMs: 300 };

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("with Redis killed, a message reaches a connected device within seconds, not at its 60 s heartbeat; polling stops once Redis is back", async () => {
  await using redis = await startRedis();
  using dir = tempDir();
  const config = parseConfig({
    db: `file:${join(dir.path, "mesh.db")}`,
    dbSync: "normal",
    edgePort: 0,
    wsPort: 0,
    tcpPort: 0,
    engine: "redis",
    redisUrl: redis.url,
  });
  const store = await openStore(config);
  const relayEngine = new RedisEngine({ url: redis.url, ...fast });
  const edgeEngine = new RedisEngine({ url: redis.url, ...fast });
  const events: string[] = [];
  const node = await startRelayNode(config, { store, engine: relayEngine, log: (event) => events.push(event) });
  const edge = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createEdgeApp({ store, engine: edgeEngine, config }).fetch });
  try {
    const { apiKey } = await ensureDemoApp(store);
    const api = async (path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${edge.port}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const send = async (n: number) => expect((await api("/v1/messages", { to: { deviceId: "phone" }, data: { n } })).status).toBe(202);
    const creds = (await api("/v1/devices", { deviceId: "phone" })).body as { deviceId: string; token: string };
    await using device = await connectDevice(node.ws, creds, { heartbeat: 60 });
    await device.waitForEvent("connected");
    await send(1);
    await device.waitFor(1);

    await redis.kill();
    await send(2);
    // Only a store poll can bring it: the edge could not signal, and the next heartbeat is 60 s away.
    const sent = performance.now();
    await device.waitFor(2, 5000);
    const lateMs = performance.now() - sent;
    expect(events).toContain("store_polling_started");
    expect(device.events.filter((e) => e.type === "connected")).toHaveLength(1);

    await redis.restart();
    // Polling ends a little after the engine is back; then only a signal can bring the next message.
    await until(() => events.includes("store_polling_stopped"), "polling to stop", 20_000);
    let edgeEngineUp = false;
    edgeEngine.watchAvailability((available) => (edgeEngineUp = available));
    await until(() => edgeEngineUp, "the edge's engine back");
    await send(3);
    await device.waitFor(3, 5000);
    expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3]);
    console.log(`message sent with Redis down arrived after ${lateMs.toFixed(0)} ms`);
  } finally {
    await node.stop();
    await edge.stop(true);
    await relayEngine.close();
    await edgeEngine.close();
    store.client.close();
  }
}, 30_000);
