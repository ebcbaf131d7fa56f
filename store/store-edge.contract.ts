// The store's contract, second half: the calls the edge and the scheduler make — deferred targets
// and their release, idempotency keys, frequency slots, topics, preferences, users and tracking.
// Run by storeContract (store.contract.ts) against every store a process can open.
import { expect, test } from "bun:test";
import { StoreConflict, type Store } from "../core/store.ts";
import { appStats, trackMessage } from "../core/tracking.ts";
import { NO_PREFERENCES } from "../core/preferences.ts";
import { bodyOf, type ContractTest, enqueue, message, type OpenStore, purgeAll } from "./contract-support.ts";
import { encodeData } from "../core/codec.ts";

const target = (deviceId: string) => ({ deviceId, userId: null, prefs: NO_PREFERENCES });

async function appWith(store: Store, name: string, devices: string[], userId?: string) {
  const { appId } = await store.createApp(name);
  for (const deviceId of devices) await store.upsertDevice(appId, { deviceId, userId });
  return appId;
}

export function storeEdgeCases(open: OpenStore, it: ContractTest = test): void {
  it("an app's CORS origins are replaced as a whole, kept per app, and answer whether any app allows an origin", async () => {
    await using store = await open();
    const a = await appWith(store, "cors-a", []);
    const b = await appWith(store, "cors-b", []);
    // Stores of one kind may share a server: origins of their own keep this test apart.
    const [oa, ob, oc] = ["a", "b", "c"].map((n) => `https://${n}-${crypto.randomUUID()}.example`) as [string, string, string];
    expect(await store.appCorsOrigins(a)).toEqual([]);
    await store.setAppCorsOrigins(a, [ob, oa, oa]);
    expect(await store.appCorsOrigins(a)).toEqual([oa, ob].sort());
    expect(await store.appCorsOrigins(b)).toEqual([]);
    expect(await store.corsOriginAllowedByAnyApp(oa)).toBe(true);
    expect(await store.corsOriginAllowedByAnyApp(oc)).toBe(false);
    await store.setAppCorsOrigins(a, [oc]);
    expect(await store.appCorsOrigins(a)).toEqual([oc]);
    expect(await store.corsOriginAllowedByAnyApp(oa)).toBe(false);
    await store.setAppCorsOrigins(a, []);
    expect(await store.appCorsOrigins(a)).toEqual([]);
  });


  it("a scheduled write takes no sequence; its release takes one once, and a second release is a StoreConflict", async () => {
    await using store = await open();
    const appId = await appWith(store, "schedule", ["a", "b"]);
    const now = Date.now();
    const m = message(appId, { createdAt: now });
    const dueAt = now + 1_000;
    await store.writeMessage({
      message: m,
      targetCount: 2,
      deliver: [],
      deferred: ["a", "b"].map((deviceId) => ({ deviceId, state: "scheduled" as const, reason: "schedule" as const, releaseAt: dueAt })),
      at: now,
    });
    expect(await store.latestSeq(appId, "a")).toBe(0);
    expect(await store.dueTargets(dueAt - 1, 10)).not.toContainEqual({ messageId: m.messageId, appId, deviceId: "a" });
    expect(await store.dueTargets(dueAt, 1000)).toContainEqual({ messageId: m.messageId, appId, deviceId: "a" });
    expect(await store.nextDueAt()).toBeLessThanOrEqual(dueAt);
    expect((await store.loadMessages([m.messageId]))[0]).toEqual(m);

    const released = await store.writeMessage({ message: m, targetCount: 0, deliver: ["a"], deferred: [], release: true, at: dueAt });
    expect(released).toEqual([{ deviceId: "a", seq: 1, collapsed: false }]);
    const again = await store.writeMessage({ message: m, targetCount: 0, deliver: ["a"], deferred: [], release: true, at: dueAt }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(StoreConflict);
    expect(await store.latestSeq(appId, "a")).toBe(1);
    // b is held for quiet hours instead: the row changes while it waits, and stays once final.
    await store.writeMessage({ message: m, targetCount: 0, deliver: [], deferred: [{ deviceId: "b", state: "held", reason: "quiet_hours", releaseAt: dueAt + 5 }], release: true, at: dueAt });
    const tracked = await trackMessage(store, appId, m.messageId, dueAt, 10);
    expect(tracked?.recipients.map((r) => [r.deviceId, r.state, r.seq, r.at])).toEqual([
      ["a", "pending", 1, null],
      ["b", "held", null, dueAt + 5],
    ]);
    expect(tracked?.recipients[0]?.queuedAt).toBe(dueAt);
    expect(tracked?.waiting).toEqual({ scheduled: 0, held: 1 });
  });

  it("an idempotency key commits with its message, and a second use is a StoreConflict that writes nothing", async () => {
    await using store = await open();
    const appId = await appWith(store, "idempotency", ["d"]);
    const first = message(appId);
    const idempotency = { key: "k-1", requestHash: "h1", answer: { messageId: first.messageId } };
    await store.writeMessage({ message: first, targetCount: 1, deliver: ["d"], deferred: [], idempotency, at: first.createdAt });
    expect(await store.findIdempotencyKey(appId, "k-1")).toMatchObject({ requestHash: "h1", messageId: first.messageId, answer: { messageId: first.messageId } });
    const second = message(appId);
    const lost = await store
      .writeMessage({ message: second, targetCount: 1, deliver: ["d"], deferred: [], idempotency: { ...idempotency, answer: {} }, at: second.createdAt })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(StoreConflict);
    expect(await store.latestSeq(appId, "d")).toBe(1);
    expect(await trackMessage(store, appId, second.messageId, Date.now(), 10)).toBeNull();
    expect(await store.findIdempotencyKey(appId, "other")).toBeNull();
    await purgeAll(store, "idempotency", { now: first.createdAt + 1, idempotencySeconds: 0 });
    expect(await store.findIdempotencyKey(appId, "k-1")).toBeNull();
  });

  it("frequency slots are taken per device up to the cap, repeat for the same message, and are given back", async () => {
    await using store = await open();
    const appId = await appWith(store, "caps", ["a", "b"]);
    const cap = { category: "promo", limit: 1, windowSeconds: 3600 };
    const now = Date.now();
    const take = (messageId: string, devices: string[]) =>
      store.reserveFrequency({ appId, messageId, category: "promo", now }, devices.map((deviceId) => ({ deviceId, cap })));
    expect([...(await take("m1", ["a", "b"]))].sort()).toEqual(["a", "b"]);
    expect([...(await take("m1", ["a"]))]).toEqual(["a"]);
    expect([...(await take("m2", ["a", "b"]))]).toEqual([]);
    await store.releaseFrequency(appId, "m1", ["b"]);
    expect([...(await take("m2", ["a", "b"]))]).toEqual(["b"]);
    await purgeAll(store, "frequency", { now: now + 1, frequencySeconds: 0 });
    expect([...(await take("m3", ["a"]))]).toEqual(["a"]);
  });

  it("topics: one stored message per publish with the next offset, subscriptions start at the head, reads page in order", async () => {
    await using store = await open();
    const appId = await appWith(store, "topics", ["a", "b"]);
    expect(await store.subscribeTopic(appId, "news", ["a"])).toBe(0);
    const published = [message(appId, { data: encodeData({ n: 1 }) }), message(appId, { data: encodeData({ n: 2 }) })];
    expect(await store.publishTopic(published[0]!, "news")).toBe(1);
    expect(await store.publishTopic(published[1]!, "news")).toBe(2);
    expect(await store.subscribeTopic(appId, "news", ["a", "b"])).toBe(2);
    expect(await store.helloState(appId, "b")).toMatchObject({ subscriptions: [{ topic: "news", startOffset: 2 }] });
    expect(await store.helloState(appId, "a")).toMatchObject({ subscriptions: [{ topic: "news", startOffset: 0 }] });
    expect(await store.topicOffset(appId, "news")).toBe(2);
    expect(await store.topicSubscriberCount(appId, "news")).toBe(2);
    const read = await store.readTopic(appId, "news", 0, 10);
    expect(read.map((r) => [r.offset, r.messageId, bodyOf(r.data)])).toEqual([
      [1, published[0]!.messageId, { n: 1 }],
      [2, published[1]!.messageId, { n: 2 }],
    ]);
    expect(await store.readTopic(appId, "news", 1, 10)).toHaveLength(1);
    await store.unsubscribeTopic(appId, "news", ["a"]);
    expect(await store.topicSubscriberCount(appId, "news")).toBe(1);
    expect(await store.topicOffset(appId, "nothing")).toBe(0);
  });

  it("preferences of a device and its user are merged into a send's targets; users resolve to their devices", async () => {
    await using store = await open();
    const appId = await appWith(store, "prefs", ["a", "b"], "u1");
    const prefs = { timeZone: "Europe/Berlin", quietHours: { start: "22:00", end: "07:00", allowHighPriority: true }, mutedCategories: ["x"], frequencyCaps: [] };
    await store.putPreferences(appId, { type: "user", id: "u1" }, prefs);
    await store.putPreferences(appId, { type: "device", id: "b" }, { ...prefs, timeZone: null, quietHours: null, mutedCategories: ["y"] });
    expect(await store.getPreferences(appId, { type: "user", id: "u1" })).toEqual(prefs);
    expect((await store.devicesOfUser(appId, "u1")).sort()).toEqual(["a", "b"]);
    const targets = await store.loadTargets(appId, ["a", "b", "ghost"]);
    const b = targets.find((t) => t.deviceId === "b");
    expect(targets.map((t) => t.deviceId).sort()).toEqual(["a", "b"]);
    expect(b?.userId).toBe("u1");
    expect([...(b?.prefs.muted ?? [])].sort()).toEqual(["x", "y"]);
    expect(b?.prefs.timeZone).toBe("Europe/Berlin");
    expect(await store.deletePreferences(appId, { type: "device", id: "b" })).toBe(true);
    expect(await store.deletePreferences(appId, { type: "device", id: "b" })).toBe(false);
    expect(await store.getPreferences(appId, { type: "device", id: "b" })).toBeNull();
    await store.requireDevices(appId, ["a", "b"]);
    const missing = await store.requireDevices(appId, ["a", "ghost"]).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "DEVICE_NOT_FOUND", details: { deviceIds: ["ghost"] } });
  });

  it("erasing devices removes every row that names them and the messages only they were sent, and nothing of others", async () => {
    await using store = await open();
    const appId = await appWith(store, "erase", ["x", "y", "z"]);
    const other = await appWith(store, "erase-other", ["x"]);
    const own = message(appId);
    const shared = message(appId);
    await enqueue(store, own, ["x"]);
    await enqueue(store, shared, ["x", "y"]);
    await enqueue(store, message(other), ["x"]);
    await store.subscribeTopic(appId, "t", ["x", "y"]);
    const topicMessage = message(appId);
    await store.publishTopic(topicMessage, "t");
    await store.putPreferences(appId, { type: "device", id: "x" }, { timeZone: null, quietHours: null, mutedCategories: [], frequencyCaps: [] });
    await store.putEndpoints(appId, { type: "device", id: "x" }, [{ kind: "email", address: "x@example.com" }, { kind: "fcm", token: "t-x" }]);
    await store.putEndpoints(appId, { type: "device", id: "y" }, [{ kind: "email", address: "y@example.com" }]);
    await store.upsertDevice(appId, { deviceId: "y", userId: "person" });
    await store.putEndpoints(appId, { type: "user", id: "person" }, [{ kind: "apns", token: "ab".repeat(32), topic: "com.example", sandbox: false }]);
    expect((await store.endpointsForDevice(appId, "y")).map((e) => e.kind)).toEqual(["email", "apns"]);
    const erased = await store.eraseDevices(appId, ["x", "nobody"]);
    expect(erased).toEqual({ deviceIds: ["x"], inboxRows: 2, waitingTargets: 0, messages: 1, subscriptions: 1, preferences: 1, endpoints: 2 });
    expect(await store.endpointsOf(appId, { type: "device", id: "y" })).toEqual([{ kind: "email", address: "y@example.com" }]);
    expect(await store.getDevice(appId, "x")).toBeNull();
    expect(await store.getDevice(appId, "y")).not.toBeNull();
    expect(await store.getDevice(other, "x")).not.toBeNull();
    expect(await store.latestSeq(other, "x")).toBe(1);
    expect(await trackMessage(store, appId, own.messageId, Date.now(), 10)).toBeNull();
    expect((await trackMessage(store, appId, shared.messageId, Date.now(), 10))?.recipients.map((r) => r.deviceId)).toEqual(["y"]);
    expect((await store.readTopic(appId, "t", 0, 10)).map((m) => m.messageId)).toEqual([topicMessage.messageId]);
    expect(await store.topicSubscriberCount(appId, "t")).toBe(1);
    expect((await store.eraseDevices(appId, ["nobody"])).deviceIds).toEqual([]);
  });

  it("the audit log reads back what was appended, newest first, by app and by page", async () => {
    await using store = await open();
    const appId = `app_${crypto.randomUUID()}`;
    const entry = (n: number) => ({ at: n, actor: { kind: "app_key" as const, keyId: `key_${n}` }, appId, action: "key.created", target: `key_${n}`, details: { n }, from: "10.0.0.1" });
    for (const n of [1, 2, 3]) await store.appendAudit(entry(n));
    await store.appendAudit({ ...entry(4), appId: null, actor: { kind: "operator" }, action: "node.drained" });
    const mine = await store.readAudit({ appId, limit: 10 });
    expect(mine.map((e) => e.details)).toEqual([{ n: 3 }, { n: 2 }, { n: 1 }]);
    expect(mine[0]).toMatchObject({ at: 3, actor: { kind: "app_key", keyId: "key_3", appId }, target: "key_3", from: "10.0.0.1" });
    expect((await store.readAudit({ appId, limit: 10, before: mine[0]!.id })).map((e) => e.at)).toEqual([2, 1]);
    expect((await store.readAudit({ limit: 1 }))[0]).toMatchObject({ action: "node.drained", appId: null, actor: { kind: "operator" } });
  });

  it("an app's counts: each target once, lapsed ones as expired, latency of delivered ones", async () => {
    await using store = await open();
    const appId = await appWith(store, "stats", ["a", "b", "c"]);
    const from = Date.now() - 1;
    const live = message(appId);
    const lapsed = message(appId, { expiresAt: Date.now() - 1 });
    await enqueue(store, live, ["a", "b"]);
    await enqueue(store, lapsed, ["c"]);
    const muted = message(appId);
    await store.writeMessage({ message: muted, targetCount: 1, deliver: [], deferred: [{ deviceId: "a", state: "suppressed", reason: "muted", releaseAt: muted.createdAt }], at: muted.createdAt });
    await store.markDelivered([{ appId, deviceId: "a", seq: 1 }], live.createdAt + 40);
    const stats = await appStats(store, appId, from, Date.now() + 1, Date.now());
    expect(stats).toMatchObject({ messages: 3, targets: 4, sent: 3 });
    expect(stats.states).toEqual({ pending: 1, delivered: 1, expired: 1, collapsed: 0, suppressed: 1, failed: 0 });
    expect(stats.suppressedBy).toEqual({ muted: 1, frequency_cap: 0 });
    expect(stats.latencyMs).toEqual({ count: 1, p50: 40, p90: 40, p99: 40, max: 40 });
    expect((await store.listApps()).some((a) => a.id === appId)).toBe(true);
  });
}

/** The directory of homes, and the row a home store keeps for an app it did not create. */
export function homeDirectoryCases(open: OpenStore, it: ContractTest = test): void {
  it("the directory of homes: set, moved, by user, forgotten; an adopted app is only a name", async () => {
    await using store = await open();
    const appId = `app_${crypto.randomUUID()}`;
    await store.setDeviceHome(appId, "d1", "eu", "u1", 1);
    await store.setDeviceHome(appId, "d2", "us", "u1", 1);
    await store.setDeviceHome(appId, "d3", "eu", null, 1);
    expect(await store.deviceHomes(appId, ["d1", "d2", "d3", "ghost"])).toEqual(new Map([["d1", "eu"], ["d2", "us"], ["d3", "eu"]]));
    expect(await store.deviceHomes(`app_${crypto.randomUUID()}`, ["d1"])).toEqual(new Map());
    expect(await store.userHomes(appId, "u1")).toEqual(["eu", "us"]);
    // A move keeps the user unless one is given.
    await store.setDeviceHome(appId, "d2", "eu", undefined, 2);
    expect(await store.userHomes(appId, "u1")).toEqual(["eu"]);
    await store.forgetDeviceHomes(appId, ["d1", "d2"]);
    expect(await store.deviceHomes(appId, ["d1", "d2", "d3"])).toEqual(new Map([["d3", "eu"]]));
    expect(await store.userHomes(appId, "u1")).toEqual([]);

    await store.adoptApp(appId);
    await store.adoptApp(appId);
    await store.upsertDevice(appId, { deviceId: "d1" });
    expect(await store.getDevice(appId, "d1")).toMatchObject({ deviceId: "d1" });
  });
}
