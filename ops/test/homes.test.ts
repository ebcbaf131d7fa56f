// A store per region (write homes) on real processes: a sqld primary and a Redis per region, the
// global database, relays and edges in three regions (ops/cluster.ts with `homes`). Each device's
// messages are written in its home region's store; sends are split by home.
import { expect, test } from "bun:test";
import { startCluster } from "../cluster.ts";
import { openStore } from "../../store/open.ts";
import { connectDevice, type TestDevice, until } from "../../test-support/harness.ts";
import { clusterApi, FAST_CLUSTER_FLAGS } from "../../test-support/cluster-api.ts";

const FAST = FAST_CLUSTER_FLAGS;
const api = clusterApi;

const ids = (d: TestDevice) => d.received.map((m) => (m.data as { n: number }).n);

test.serial("homes: devices live in their region's store; sends split by home reach each device once, in order; topics, tracking, user preferences and the user erase reach every home", async () => {
  await using cluster = await startCluster({ regions: ["a", "b", "c"], relaysPerRegion: 1, homes: true, extraFlags: FAST });
  // Registered at edge a: one homed there, one in b by request; one registered at c's edge.
  const regA = await api(cluster, "a", "POST", "/v1/devices", { deviceId: "dev-a", userId: "u1" });
  const regB = await api(cluster, "a", "POST", "/v1/devices", { deviceId: "dev-b", home: "b" });
  const regC = await api(cluster, "c", "POST", "/v1/devices", { deviceId: "dev-c", userId: "u1" });
  expect([regA.status, regB.status, regC.status]).toEqual([201, 201, 201]);
  expect((await api(cluster, "a", "POST", "/v1/devices", { deviceId: "dev-x", home: "zz" })).body.error).toMatchObject({ code: "INVALID_REQUEST" });
  // Any edge answers for any device, from its home.
  for (const edge of ["a", "b", "c"]) {
    expect((await api(cluster, edge, "GET", "/v1/devices/dev-b")).body).toMatchObject({ deviceId: "dev-b", home: "b" });
  }
  // Each home's store holds its own devices, and only those.
  for (const [region, own] of [["a", "dev-a"], ["b", "dev-b"], ["c", "dev-c"]] as const) {
    const store = await openStore({ db: cluster.sqld[region]!.url, dbSync: "normal", migrateOnStart: false });
    try {
      for (const id of ["dev-a", "dev-b", "dev-c"]) expect((await store.getDevice(cluster.appId, id)) !== null).toBe(id === own);
    } finally {
      store.close();
    }
  }

  const device = async (region: string, creds: { deviceId: string; token: string }) => {
    const d = await connectDevice(cluster.regions[region]!.relays[0]!.ws, creds, { heartbeat: 1 });
    await d.waitForEvent("connected");
    return d;
  };
  await using a = await device("a", regA.body);
  await using b = await device("b", regB.body);
  await using c = await device("c", regC.body);

  // One send to three homes: one message id, a part per home, the sums of the parts.
  const split = await api(cluster, "b", "POST", "/v1/messages", { to: { deviceIds: ["dev-a", "dev-b", "dev-c"] }, data: { n: 1 } });
  expect(split.status).toBe(202);
  expect(split.body.targets).toBe(3);
  expect(split.body.states.pending).toBe(3);
  expect(split.body.homes.map((h: { home: string }) => h.home).sort()).toEqual(["a", "b", "c"]);
  expect(new Set(split.body.homes.map((h: { result: { messageId: string } }) => h.result.messageId))).toEqual(new Set([split.body.messageId]));

  // A send naming an unknown device writes nothing in any home.
  const ghost = await api(cluster, "c", "POST", "/v1/messages", { to: { deviceIds: ["dev-a", "ghost"] }, data: { n: 99 } });
  expect(ghost.status).toBe(404);
  expect(ghost.body.error).toMatchObject({ code: "DEVICE_NOT_FOUND", details: { deviceIds: ["ghost"] } });

  // A batch from every edge, interleaved: each device gets its messages once and in order.
  for (let n = 2; n <= 13; n++) {
    const from = ["a", "b", "c"][n % 3]!;
    const batch = await api(cluster, from, "POST", "/v1/messages/batch", {
      messages: [
        { to: { deviceId: "dev-a" }, data: { n } },
        { to: { deviceIds: ["dev-b", "dev-c"] }, data: { n } },
      ],
    });
    expect(batch.body.accepted).toBe(2);
  }
  // A user's devices in two homes.
  const user = await api(cluster, "b", "POST", "/v1/messages", { to: { userId: "u1" }, data: { n: 14 } });
  expect(user.status).toBe(202);
  expect(user.body.targets).toBe(2);
  // A repeated idempotency key across homes: the first answer, nothing written twice.
  const keyed = { to: { deviceIds: ["dev-a", "dev-b"] }, data: { n: 15 }, idempotencyKey: "k-15" };
  const first = await api(cluster, "c", "POST", "/v1/messages", keyed);
  const again = await api(cluster, "c", "POST", "/v1/messages", keyed);
  expect(again.body.messageId).toBe(first.body.messageId);
  expect(again.headers.get("idempotent-replayed")).toBe("true");

  const want = (list: number[]) => list;
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  await until(() => a.received.length >= 15 && b.received.length >= 14 && c.received.length >= 14, "every message", 15_000);
  await Bun.sleep(500);
  expect(ids(a)).toEqual(want([...range(1, 14), 15]));
  expect(ids(b)).toEqual(want([...range(1, 13), 15]));
  expect(ids(c)).toEqual(want(range(1, 14)));
  for (const d of [a, b, c]) expect(d.received.map((m) => m.seq)).toEqual(range(1, d.received.length));
  // Tracked from any edge, the split message is one message with its three homes' recipients.
  const tracked = await api(cluster, "a", "GET", `/v1/messages/${split.body.messageId}`);
  expect(tracked.body).toMatchObject({ messageId: split.body.messageId, targets: 3 });
  expect(tracked.body.recipients.map((r: { deviceId: string }) => r.deviceId).sort()).toEqual(["dev-a", "dev-b", "dev-c"]);

  // A topic with subscribers in every home: one message reaches each of them once.
  const sub = await api(cluster, "a", "POST", "/v1/topics/news/subscribers", { deviceIds: ["dev-a", "dev-b", "dev-c"] });
  expect(sub.status).toBe(200);
  expect((await api(cluster, "b", "GET", "/v1/topics/news")).body.subscribers).toBe(3);
  await Bun.sleep(300);
  const topic = await api(cluster, "c", "POST", "/v1/messages", { to: { topic: "news" }, data: { headline: 1 } });
  expect(topic.status).toBe(202);
  expect(topic.body.targets).toBe(3);
  for (const d of [a, b, c]) await d.waitForTopic(1);
  await Bun.sleep(500);
  for (const d of [a, b, c]) expect(d.topicMessages.map((m) => m.data)).toEqual([{ headline: 1 }]);

  // A user's preferences, set at an edge where the user has no device, hold in both homes it has.
  const prefs = { timeZone: "UTC", quietHours: null, mutedCategories: ["promo"], frequencyCaps: [] };
  expect((await api(cluster, "b", "PUT", "/v1/users/u1/preferences", prefs)).status).toBe(200);
  expect((await api(cluster, "c", "GET", "/v1/users/u1/preferences")).body.mutedCategories).toEqual(["promo"]);
  const muted = await api(cluster, "b", "POST", "/v1/messages", { to: { userId: "u1" }, data: { n: 99 }, category: "promo" });
  expect(muted.body).toMatchObject({ targets: 2, states: { suppressed: 2, pending: 0 } });

  // Erasing the user from one edge erases its devices in both their homes.
  const erased = await api(cluster, "b", "DELETE", "/v1/users/u1");
  expect(erased.status).toBe(200);
  expect(erased.body.deviceIds.sort()).toEqual(["dev-a", "dev-c"]);
  for (const [edge, id] of [["a", "dev-a"], ["c", "dev-c"]] as const) expect((await api(cluster, edge, "GET", `/v1/devices/${id}`)).status).toBe(404);
}, 120_000);

test.serial("a device's home moves with its undelivered messages; sends during a move are neither lost, doubled nor reordered; a relay elsewhere sends it home", async () => {
  await using cluster = await startCluster({ regions: ["a", "b"], relaysPerRegion: 1, homes: true, extraFlags: FAST });
  const creds = (await api(cluster, "a", "POST", "/v1/devices", { deviceId: "nomad" })).body;
  // Offline: five messages wait in home a; then the home moves to b.
  for (let n = 1; n <= 5; n++) expect((await api(cluster, "b", "POST", "/v1/messages", { to: { deviceId: "nomad" }, data: { n } })).status).toBe(202);
  const moved = await api(cluster, "b", "PUT", "/v1/devices/nomad/home", { home: "b" });
  expect(moved).toMatchObject({ status: 200, body: { deviceId: "nomad", home: "b", from: "a", messages: 5 } });
  expect((await api(cluster, "a", "PUT", "/v1/devices/nomad/home", { home: "zz" })).body.error).toMatchObject({ code: "INVALID_REQUEST" });
  for (const edge of ["a", "b"]) expect((await api(cluster, edge, "GET", "/v1/devices/nomad")).body).toMatchObject({ home: "b", lastSeq: 5 });
  const storeOf = async (region: string) => openStore({ db: cluster.sqld[region]!.url, dbSync: "normal", migrateOnStart: false });
  {
    const [a, b] = [await storeOf("a"), await storeOf("b")];
    expect(await a.getDevice(cluster.appId, "nomad")).toBeNull();
    expect((await a.readInbox(cluster.appId, "nomad", 0, 100)).length).toBe(0);
    expect((await b.readInbox(cluster.appId, "nomad", 0, 100)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    a.close();
    b.close();
  }

  // It connects to a relay in a, its old home: sent to b's relays, where its messages wait.
  const relayA = cluster.regions.a!.relays[0]!;
  await until(async () => (await api(cluster, "a", "GET", "/v1/nodes?region=a")).body.nodes?.length >= 2, "both relays in the registry", 10_000);
  await Bun.sleep(700);
  await using device = await connectDevice(relayA.ws, creds, { heartbeat: 1 });
  await device.waitFor(5, 15_000).catch((e) => { console.log(JSON.stringify(device.events.slice(0, 8))); throw e; });
  expect(device.events.some((e) => e.type === "goaway" && e.reason === 4044)).toBe(true);

  // Moved back while sends keep coming from both edges.
  const sending = (async () => {
    for (let n = 6; n <= 45; n++) {
      const res = await api(cluster, n % 2 ? "a" : "b", "POST", "/v1/messages", { to: { deviceId: "nomad" }, data: { n } });
      expect(res.status).toBe(202);
    }
  })();
  await Bun.sleep(150);
  expect((await api(cluster, "a", "PUT", "/v1/devices/nomad/home", { home: "a" })).body).toMatchObject({ home: "a", from: "b" });
  await sending;
  await device.waitFor(45, 20_000).catch(async (e) => { console.log(JSON.stringify(device.events), JSON.stringify(ids(device)), JSON.stringify((await api(cluster, "b", "GET", "/v1/devices/nomad")).body)); throw e; });
  await Bun.sleep(500);
  expect(ids(device)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  expect(device.received.map((m) => m.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  expect((await api(cluster, "b", "GET", "/v1/devices/nomad")).body).toMatchObject({ home: "a", lastSeq: 45 });
}, 120_000);
