// The edge spool on real processes: region a's sqld primary is killed with -9 while sends go on,
// then the edge holding the spooled sends is killed with -9 too. The edge comes back while the
// primary is still away, then the primary; every send the edge answered 202 reaches the device
// once, in order.
import { expect, test } from "bun:test";
import { type Cluster, startCluster } from "../cluster.ts";
import { connectDevice } from "../../test-support/harness.ts";

const FAST = ["--heartbeat", '{"min":1,"default":1,"max":600}', "--node-report-ms", "300", "--db-sync-interval-ms", "200"];

async function api(edge: string, cluster: Cluster, method: string, path: string, body?: unknown) {
  const res = await fetch(`${edge}${path}`, {
    method,
    headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test.serial("primary and edge killed with -9 while the spool holds sends: none lost, none twice, in order", async () => {
  await using cluster = await startCluster({ regions: ["a"], relaysPerRegion: 1, extraFlags: FAST });
  const edge = cluster.regions.a!.edge;
  const creds = (await api(edge, cluster, "POST", "/v1/devices", { deviceId: "survivor" })).body;
  await using device = await connectDevice(cluster.regions.a!.relays[0]!.ws, creds, { heartbeat: 1 });
  await device.waitForEvent("connected");

  const accepted: { messageId: string; state?: string }[] = [];
  const send = async (n: number) => {
    const res = await api(edge, cluster, "POST", "/v1/messages", { to: { deviceId: "survivor" }, data: { n } });
    expect(res.status).toBe(202);
    accepted.push(res.body);
  };
  for (let n = 1; n <= 10; n++) await send(n);
  await cluster.primary.kill();
  for (let n = 11; n <= 40; n++) await send(n);
  expect(accepted.slice(10).every((a) => a.state === "queued")).toBe(true);

  // The edge comes back first, on its stale replica and its spool, and goes on queueing.
  await cluster.killEdge("a");
  expect(await cluster.restartEdge("a")).toBe(edge);
  for (let n = 41; n <= 45; n++) await send(n);
  expect(accepted.slice(40).every((a) => a.state === "queued")).toBe(true);
  await cluster.primary.restart();
  for (let n = 46; n <= 50; n++) await send(n);

  await device.waitFor(50, 30_000);
  await Bun.sleep(500);
  expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(device.received.map((m) => m.messageId)).toEqual(accepted.map((a) => a.messageId));
  expect(device.received.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
}, 120_000);

test.serial("an edge whose home edge is gone keeps sends and hands them over, in order, once it is back", async () => {
  // Region b reaches region a through a delaying proxy, which takes b's connection and then drops
  // it while a's edge is gone: b cannot know whether a send landed, and need not.
  await using cluster = await startCluster({ regions: ["a", "b"], relaysPerRegion: 1, extraFlags: FAST, wan: { b: { a: 5 } } });
  const [a, b] = [cluster.regions.a!.edge, cluster.regions.b!.edge];
  const creds = (await api(b, cluster, "POST", "/v1/devices", { deviceId: "far" })).body;
  await using device = await connectDevice(cluster.regions.b!.relays[0]!.ws, creds, { heartbeat: 1 });
  await device.waitForEvent("connected");
  const accepted: { messageId: string; state?: string }[] = [];
  const send = async (n: number) => {
    const res = await api(b, cluster, "POST", "/v1/messages", { to: { deviceId: "far" }, data: { n } });
    expect(res.status).toBe(202);
    accepted.push(res.body);
  };
  for (let n = 1; n <= 5; n++) await send(n);
  await cluster.killEdge("a");
  for (let n = 6; n <= 20; n++) await send(n);
  expect(accepted.slice(5).every((x) => x.state === "queued")).toBe(true);
  // Only edges hand sends over: no signature, or one over another body, is refused.
  const unsigned = await fetch(`${b}/v1/handover`, { method: "POST", headers: { "content-type": "application/json", "x-pushmesh-forwarded-by": "t" }, body: "{}" });
  expect(unsigned.status).toBe(401);

  expect(await cluster.restartEdge("a")).toBe(a);
  for (let n = 21; n <= 25; n++) await send(n);
  await device.waitFor(25, 30_000);
  await Bun.sleep(500);
  expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  expect(device.received.map((m) => m.messageId)).toEqual(accepted.map((x) => x.messageId));
  // They went through region a's edge, the writer b forwards to, not around it (with any sent
  // while b still held some: those queue behind them).
  const metrics = await (await fetch(`${b}/metrics`)).text();
  const handedOver = Number(/pushmesh_spool_forwarded_total\{[^}]*result="handed_over"[^}]*\} (\d+)/.exec(metrics)?.[1]);
  expect(handedOver).toBeGreaterThanOrEqual(15);
}, 120_000);
