// A multi-process relay host (`pushmesh relay --workers 2`) on a real Redis: its workers share the
// host's ports, a killed worker is restarted while its devices resume on the others without loss,
// and SIGTERM drains every worker to another relay.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../core/config.ts";
import { createEdgeApp } from "../../edge/app.ts";
import { openEngine } from "../../engines/open.ts";
import { openStore } from "../../store/open.ts";
import { startRelayNode } from "../../relay/relay-node.ts";
import { Scheduler } from "../../core/schedule.ts";
import { silentLog } from "../log.ts";
import { ensureDemoApp } from "../mesh.ts";
import { assertStrictlyIncreasing, connectDevice, tempDir, type TestDevice } from "../../test-support/harness.ts";
import { runCli } from "../../test-support/process.ts";
import { startRedis } from "../../test-support/redis.ts";

const FAST = { nodeReportMs: 200, heartbeat: { min: 1, default: 1, max: 600 } };

/** An edge and a relay of their own (the drain's destination) in this process, over the store file and Redis the host uses. */
async function startEdge(db: string, redisUrl: string) {
  const config = parseConfig({ db, dbSync: "normal", engine: "redis", redisUrl, edgePort: 0, wsPort: 0, tcpPort: 0, nodeId: "other", ...FAST });
  const store = await openStore(config);
  const engine = await openEngine(config, silentLog);
  const scheduler = new Scheduler({ store, engine: engine.engine, config, log: silentLog });
  const app = createEdgeApp({ store, engine: engine.engine, config, log: silentLog, limiter: engine.limiter, scheduler });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const { apiKey } = await ensureDemoApp(store);
  const api = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as any;
  };
  let other: Awaited<ReturnType<typeof startRelayNode>> | null = null;
  return {
    store,
    api,
    async startOtherRelay() {
      other = await startRelayNode(config, { store, engine: engine.engine, log: silentLog });
      return other;
    },
    async [Symbol.asyncDispose]() {
      await other?.stop();
      await server.stop(true);
      await engine.close();
      store.close();
    },
  };
}

function startHost(db: string, redisUrl: string) {
  return runCli(
    ["relay", "--workers", "2", "--node-id", "host", "--engine", "redis", "--redis-url", redisUrl, "--db", db, "--db-sync", "normal"],
    { PUSHMESH_WS_PORT: "0", PUSHMESH_TCP_PORT: "0", PUSHMESH_NODE_REPORT_MS: "200", PUSHMESH_SHUTDOWN_GRACE_MS: "8000", PUSHMESH_HEARTBEAT: JSON.stringify(FAST.heartbeat) },
  );
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("the workers share the host's ports; a killed worker is restarted and its devices resume on the others without loss", async () => {
  using dir = tempDir();
  await using redis = await startRedis();
  const db = `file:${join(dir.path, "mesh.db")}`;
  await using edge = await startEdge(db, redis.url);
  await using host = startHost(db, redis.url);
  const ready = await host.nextLine(30_000);
  expect(ready).toMatchObject({ ready: true, role: "relay", nodeId: "host" });
  const [w1, w2] = ready.workers as { nodeId: string; pid: number }[];
  expect([w1!.nodeId, w2!.nodeId]).toEqual(["host.w1", "host.w2"]);

  // Devices on both transports, all dialling the host's one address of each.
  const ids = Array.from({ length: 16 }, (_, i) => `dev-${i}`);
  const devices: TestDevice[] = [];
  for (const [i, id] of ids.entries()) {
    const creds = await edge.api("/v1/devices", { deviceId: id });
    devices.push(await connectDevice(i % 2 ? ready.ws : ready.tcp, creds, { transport: i % 2 ? "ws" : "tcp", heartbeat: 1 }));
  }
  await Promise.all(devices.map((d) => d.waitForEvent("connected")));
  // Both workers took devices on the shared ports (the kernel spreads them; 16 on one alone is a 1-in-30,000 draw).
  const loadOf = async () => Object.fromEntries((await edge.store.listNodes()).map((n) => [n.id, n.connections]));
  await until(async () => {
    const load = await loadOf();
    return (load["host.w1"] ?? 0) + (load["host.w2"] ?? 0) === 16;
  }, "the workers to report 16 devices");
  const load = await loadOf();
  expect(load["host.w1"]).toBeGreaterThan(0);
  expect(load["host.w2"]).toBeGreaterThan(0);

  await edge.api("/v1/messages", { to: { deviceIds: ids }, data: { n: 1 } });
  await Promise.all(devices.map((d) => d.waitFor(1)));

  process.kill(w1!.pid, "SIGKILL");
  for (let n = 2; n <= 6; n++) await edge.api("/v1/messages", { to: { deviceIds: ids }, data: { n } });
  const restarted = await host.logged("worker_restarted");
  expect(restarted.nodeId).toBe("host.w1");
  expect(alive(restarted.pid)).toBe(true);
  await Promise.all(devices.map((d) => d.waitFor(6, 15_000)));
  for (const d of devices) {
    const seqs = d.received.map((m) => m.seq);
    assertStrictlyIncreasing(seqs);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
  }
  await Promise.all(devices.map((d) => d.client.stop()));
}, 60_000);

test("SIGTERM drains every worker's devices to another relay, then the host and its workers exit", async () => {
  using dir = tempDir();
  await using redis = await startRedis();
  const db = `file:${join(dir.path, "mesh.db")}`;
  await using edge = await startEdge(db, redis.url);
  // Started first, so every worker knows it from its first report.
  const other = await edge.startOtherRelay();
  await using host = startHost(db, redis.url);
  const ready = await host.nextLine(30_000);
  // 20 devices: all on one worker is a 1-in-500,000 draw, so both workers have devices to drain.
  const ids = Array.from({ length: 20 }, (_, i) => `drain-${i}`);
  const devices: TestDevice[] = [];
  for (const id of ids) devices.push(await connectDevice(ready.ws, await edge.api("/v1/devices", { deviceId: id }), { heartbeat: 1 }));
  await Promise.all(devices.map((d) => d.waitForEvent("connected")));
  await edge.api("/v1/messages", { to: { deviceIds: ids }, data: { n: 1 } });
  await Promise.all(devices.map((d) => d.waitFor(1)));
  expect(other.relay.connections.ws).toBe(0);

  await host.kill("SIGTERM");
  const exit = await host.finished(20_000);
  expect(exit.code).toBe(0);
  // Both workers drained (each logs drain_started), and the host's own shutdown names them.
  expect(host.events("drain_started").length).toBe(2);
  expect(host.events("shutdown").find((e) => e.workers === 2)).toBeDefined();
  for (const w of ready.workers as { pid: number }[]) expect(alive(w.pid)).toBe(false);
  await until(() => other.relay.connections.ws === 20, "every device on the other relay");
  await edge.api("/v1/messages", { to: { deviceIds: ids }, data: { n: 2 } });
  await Promise.all(devices.map((d) => d.waitFor(2)));
  for (const d of devices) expect(d.received.map((m) => m.seq)).toEqual([1, 2]);
  await Promise.all(devices.map((d) => d.client.stop()));
}, 60_000);

test("node drain with the host's id drains every worker; node undrain takes them all back", async () => {
  using dir = tempDir();
  await using redis = await startRedis();
  const db = `file:${join(dir.path, "mesh.db")}`;
  await using edge = await startEdge(db, redis.url);
  await using host = startHost(db, redis.url);
  await host.nextLine(30_000);
  await using drain = runCli(["node", "drain", "host", "--db", db]);
  expect((await drain.finished()).code).toBe(0);
  expect(drain.lines[0]).toEqual({ node: "host", draining: true, workers: ["host.w1", "host.w2"] });
  await until(() => host.events("drain_started").length === 2, "both workers to start draining");
  await using undrain = runCli(["node", "undrain", "host", "--db", db]);
  expect((await undrain.finished()).code).toBe(0);
  await until(() => host.events("drain_cancelled").length === 2, "both workers to serve again");
  expect((await edge.store.listNodes()).filter((n) => n.id.startsWith("host.w")).map((n) => n.draining)).toEqual([false, false]);
}, 60_000);
