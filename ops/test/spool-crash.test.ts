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
