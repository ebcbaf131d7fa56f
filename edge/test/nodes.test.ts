// Node ranking over a real edge: registry rows written as relays would write them, ranked by the
// RTT table and load; drains through the operator route.
import { expect, test } from "bun:test";
import type { NodeRecord } from "../../core/store.ts";
import { startTestMesh } from "../../test-support/harness.ts";

const node = (id: string, extra: Partial<NodeRecord>): NodeRecord => ({
  id,
  region: "eu",
  wsUrl: `ws://${id}.example:7701`,
  tcpAddr: `${id}.example:7702`,
  ips: [],
  capacity: 1000,
  connections: 0,
  draining: false,
  version: "0.1.0",
  weight: 100,
  startedAt: Date.now(),
  updatedAt: Date.now(),
  ...extra,
});

const rtt = { region: "eu", rttTable: { eu: { us: 90, ap: 240 }, us: { ap: 160 } } };

test("ranked by region RTT and load; draining and stale nodes never listed; raw IPs as fallbacks", async () => {
  await using mesh = await startTestMesh(rtt);
  await mesh.store.setNodeDraining("relay-1", true); // the test's own relay: out of the way
  await mesh.store.upsertNode(node("eu-idle", { connections: 10, ips: ["10.0.0.1"] }));
  await mesh.store.upsertNode(node("eu-busy", { connections: 950, ips: ["10.0.0.2"] }));
  await mesh.store.upsertNode(node("us-1", { region: "us", ips: ["10.1.0.1", "10.1.0.2"] }));
  await mesh.store.upsertNode(node("ap-1", { region: "ap" }));
  await mesh.store.upsertNode(node("eu-draining", { draining: true }));
  await mesh.store.upsertNode(node("eu-stale", { updatedAt: Date.now() - 60_000 }));

  const fromEu = (await (await fetch(`${mesh.edge}/v1/nodes`)).json()) as any;
  expect(fromEu.region).toBe("eu");
  // eu-busy: 5 ms + 95% × 100 ms = 100 ms, just behind us-1 at 90 ms.
  expect(fromEu.nodes.map((n: any) => n.id)).toEqual(["eu-idle", "us-1", "eu-busy", "ap-1"]);
  expect(fromEu.nodes[0]).toMatchObject({ ws: "ws://eu-idle.example:7701", tcp: "eu-idle.example:7702", ips: ["10.0.0.1"], rttMs: 5 });
  expect(fromEu.fallbackIps.map((a: any) => a.ws)).toEqual([
    "ws://10.0.0.1:7701",
    "ws://10.1.0.1:7701",
    "ws://10.1.0.2:7701",
    "ws://10.0.0.2:7701",
  ]);
  expect(fromEu.fallbackIps[0]).toEqual({ nodeId: "eu-idle", ip: "10.0.0.1", ws: "ws://10.0.0.1:7701", tcp: "10.0.0.1:7702" });
  expect(fromEu.heartbeat).toEqual({ min: 5, default: 30, max: 600 });

  const fromAp = (await (await fetch(`${mesh.edge}/v1/nodes?region=ap`)).json()) as any;
  expect(fromAp.nodes.map((n: any) => n.id)).toEqual(["ap-1", "us-1", "eu-idle", "eu-busy"]);
});

test("an operator drains a node: it leaves the device list at once and shows as draining", async () => {
  await using mesh = await startTestMesh(rtt);
  await mesh.store.upsertNode(node("eu-2", {}));
  const listed = async () => ((await (await fetch(`${mesh.edge}/v1/nodes`)).json()) as any).nodes.map((n: any) => n.id).sort();
  expect(await listed()).toEqual(["eu-2", "relay-1"]);

  const drained = await mesh.api("POST", "/v1/nodes/eu-2/drain", {}, mesh.operatorKey);
  expect(drained.status).toBe(200);
  expect(drained.body).toMatchObject({ id: "eu-2", draining: true, stale: false });
  expect(await listed()).toEqual(["relay-1"]);
  const all = await mesh.api("GET", "/v1/nodes/all", undefined, mesh.operatorKey);
  expect(all.body.nodes.map((n: any) => [n.id, n.draining])).toEqual([
    ["eu-2", true],
    ["relay-1", false],
  ]);

  expect((await mesh.api("POST", "/v1/nodes/eu-2/drain", { draining: false }, mesh.operatorKey)).body.draining).toBe(false);
  expect(await listed()).toEqual(["eu-2", "relay-1"]);
  const missing = await mesh.api("POST", "/v1/nodes/nope/drain", {}, mesh.operatorKey);
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe("NODE_NOT_FOUND");
});

test("the relay announces its raw IP when its host is one", async () => {
  await using mesh = await startTestMesh();
  const list = (await (await fetch(`${mesh.edge}/v1/nodes`)).json()) as any;
  expect(list.nodes[0].ips).toEqual(["127.0.0.1"]);
  expect(list.fallbackIps[0]).toMatchObject({ nodeId: "relay-1", ip: "127.0.0.1", ws: mesh.ws });
});

test("a canary relay registers the weight and version it was started with", async () => {
  await using mesh = await startTestMesh();
  await mesh.addRelay({ nodeId: "canary-1", weight: 5, version: "0.2.0-rc1" });
  const all = await mesh.api("GET", "/v1/nodes/all", undefined, mesh.operatorKey);
  const canary = (all.body.nodes as { id: string; weight: number; version: string }[]).find((n) => n.id === "canary-1");
  expect(canary).toMatchObject({ weight: 5, version: "0.2.0-rc1" });
});
