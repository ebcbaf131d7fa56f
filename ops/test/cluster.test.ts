// Distributed mode on real processes (one cluster at a time: each is a dozen processes on two cores):
// sqld primary + replica, Redis, relays and edges in two
// regions, each process with an embedded replica of its region's sqld (relay/cluster.ts).
import { expect, test } from "bun:test";
import { MemoryStateStore } from "../../core/client/client.ts";
import { startCluster } from "../cluster.ts";
import { assertStrictlyIncreasing, connectDevice } from "../../test-support/harness.ts";
import { clusterApi, FAST_CLUSTER_FLAGS } from "../../test-support/cluster-api.ts";

const FAST = FAST_CLUSTER_FLAGS;
const api = clusterApi;

test.serial("across regions: a send at one region's edge reaches a device on the other's relay; concurrent edges keep sequences gapless", async () => {
  // Every edge writes to the primary itself here, so two regions' writers race for each sequence.
  await using cluster = await startCluster({ regions: ["a", "b"], relaysPerRegion: { a: 2, b: 1 }, extraFlags: FAST, forwardWrites: false });
  expect(cluster.regions.a!.relays).toHaveLength(2);
  expect(cluster.regions.b!.relays).toHaveLength(1);
  const creds = (await api(cluster, "a", "POST", "/v1/devices", { deviceId: "traveller" })).body;
  await using device = await connectDevice(cluster.regions.a!.relays[0]!.ws, creds);
  await device.waitForEvent("connected");
  const first = await api(cluster, "b", "POST", "/v1/messages", { to: { deviceId: "traveller" }, data: { from: "b" } });
  expect(first.status).toBe(202);
  await device.waitFor(1, 5000);
  expect(device.received[0]).toMatchObject({ seq: 1, data: { from: "b" } });

  // Both edges at once, each through its own region's sqld: one primary orders every write.
  const sends = await Promise.all(
    Array.from({ length: 60 }, (_, i) => api(cluster, i % 2 ? "a" : "b", "POST", "/v1/messages", { to: { deviceId: "traveller" }, data: { i } })),
  );
  expect(sends.every((s) => s.status === 202)).toBe(true);
  await device.waitFor(61, 10_000);
  await Bun.sleep(300);
  expect(device.received.map((m) => m.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
  const track = await api(cluster, "b", "GET", `/v1/messages/${first.body.messageId}`);
  expect(track.status).toBe(200);
}, 90_000);

test.serial("a device whose relay is killed mid-stream resumes on another: no loss, no duplicate, in order", async () => {
  // Region b's edge forwards its sends to region a's (the cluster's default): both kinds interleave.
  await using cluster = await startCluster({ regions: ["a", "b"], relaysPerRegion: { a: 2, b: 1 }, extraFlags: FAST });
  const [r1, r2] = cluster.regions.a!.relays;
  const creds = (await api(cluster, "a", "POST", "/v1/devices", { deviceId: "mover" })).body;
  await using device = await connectDevice(r1!.ws, creds, { addresses: [r1!.ws, r2!.ws], heartbeat: 1, state: new MemoryStateStore() });
  await device.waitForEvent("connected");
  const sending = (async () => {
    for (let n = 1; n <= 120; n++) {
      const res = await api(cluster, n % 2 ? "a" : "b", "POST", "/v1/messages", { to: { deviceId: "mover" }, data: { n } });
      expect(res.status).toBe(202);
      if (n === 40) await cluster.killRelay(r1!.nodeId);
    }
  })();
  await sending;
  await device.waitFor(120, 20_000);
  await Bun.sleep(500);
  const ns = device.received.map((m) => (m.data as { n: number }).n);
  expect(ns).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  assertStrictlyIncreasing(device.received.map((m) => m.seq));
  expect(device.events.filter((e) => e.type === "connected").at(-1)).toMatchObject({ nodeId: r2!.nodeId });
}, 90_000);

test.serial("Redis restarted mid-stream loses nothing; with the primary down both edges queue sends, and nothing accepted is lost", async () => {
  // Region b's edge writes to the primary itself, so its own spool is what answers.
  await using cluster = await startCluster({ regions: ["a", "b"], relaysPerRegion: 1, extraFlags: FAST, forwardWrites: false });
  const creds = (await api(cluster, "a", "POST", "/v1/devices", { deviceId: "survivor" })).body;
  await using device = await connectDevice(cluster.regions.b!.relays[0]!.ws, creds, { heartbeat: 1 });
  await device.waitForEvent("connected");
  const accepted: number[] = [];
  const send = async (n: number, region = "a") => {
    const res = await api(cluster, region, "POST", "/v1/messages", { to: { deviceId: "survivor" }, data: { n } });
    if (res.status === 202) accepted.push(n);
    return res;
  };
  for (let n = 1; n <= 10; n++) await send(n);
  await cluster.redis.stop();
  for (let n = 11; n <= 20; n++) expect((await send(n)).status).toBe(202);
  await device.waitFor(20, 10_000); // by heartbeat: no signal can travel
  await cluster.redis.restart();
  for (let n = 21; n <= 30; n++) await send(n);
  await device.waitFor(30, 10_000);

  await cluster.primary.stop();
  const during = await Promise.all([send(31, "a"), send(32, "b")]);
  for (const res of during) {
    expect(res.status).toBe(202);
    expect(res.body.state).toBe("queued");
  }
  await cluster.primary.restart();
  for (let n = 33; n <= 40; n++) expect((await send(n)).status).toBe(202);
  await device.waitFor(40, 15_000);
  await Bun.sleep(500);
  // Each edge keeps its own sends in order; two edges' spools drain side by side, so 32 (region
  // b's) may land anywhere after 30.
  const got = device.received.map((m) => (m.data as { n: number }).n);
  expect(got.filter((n) => n !== 32)).toEqual(accepted.filter((n) => n !== 32));
  expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
}, 120_000);

test.serial("a device that returns right after a send its relay's replica has not pulled gets it at once, not at its next heartbeat", async () => {
  // The relay's replica syncs only when asked: no periodic sync, and no node reports to write.
  const slow = ["--db-sync-interval-ms", "600000", "--node-report-ms", "600000", "--heartbeat", '{"min":1,"default":600,"max":600}'];
  await using cluster = await startCluster({ regions: ["a"], relaysPerRegion: 1, extraFlags: slow });
  const relay = cluster.regions.a!.relays[0]!;
  const creds = (await api(cluster, "a", "POST", "/v1/devices", { deviceId: "returner" })).body;
  const state = new MemoryStateStore();
  {
    await using away = await connectDevice(relay.ws, creds, { heartbeat: 600, state });
    await away.waitForEvent("connected");
  }
  // Sent while the device is away: stored at the primary, signalled to no one.
  expect((await api(cluster, "a", "POST", "/v1/messages", { to: { deviceId: "returner" }, data: { n: 1 } })).status).toBe(202);
  await using back = await connectDevice(relay.ws, creds, { heartbeat: 600, state });
  await back.waitFor(1, 5000);
  expect(back.received.map((m) => [m.seq, m.data])).toEqual([[1, { n: 1 }]]);
}, 60_000);
