// The store's contract: the calls the send path and the relay make, run against every store a
// process can open (store/test/contract.test.ts: a libSQL file, sqld, an embedded replica).
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { PushmeshError } from "../core/errors.ts";
import { bodyOf, type ContractTest, enqueue, message, messageStatus, type OpenStore } from "./contract-support.ts";
import { encodeData } from "../core/codec.ts";
import { APP_SECRET_CACHE_MS } from "./libsql-store.ts";
import { apps } from "./schema.ts";
import { retentionCases } from "./retention.contract.ts";
import { homeDirectoryCases, storeEdgeCases } from "./store-edge.contract.ts";

/** `serial`: one case at a time, for stores that share one server (sqld stops answering under many concurrent writers). */
export function storeContract(name: string, open: OpenStore, options: { serial?: boolean } = {}): void {
  const it: ContractTest = options.serial ? test.serial : test;
  describe(`store contract: ${name}`, () => {
    it("concurrent sends give each device gapless, unique sequences", async () => {
      await using store = await open();
      const { appId } = await store.createApp("seq");
      await store.upsertDevice(appId, { deviceId: "a" });
      await store.upsertDevice(appId, { deviceId: "b" });
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => enqueue(store, message(appId), i % 2 === 0 ? ["a", "b"] : ["a"])),
      );
      const seqsOf = (d: string) => results.flat().filter((r) => r.deviceId === d).map((r) => r.seq).sort((x, y) => x - y);
      expect(seqsOf("a")).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(seqsOf("b")).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await store.latestSeq(appId, "a")).toBe(100);
      const inbox = await store.readInbox(appId, "b", 0, 1000);
      expect(inbox.map((m) => m.seq)).toEqual(seqsOf("b"));
    });

    it("a send naming an unknown device writes nothing", async () => {
      await using store = await open();
      const { appId } = await store.createApp("atomic");
      await store.upsertDevice(appId, { deviceId: "real" });
      const m = message(appId);
      const error = await enqueue(store, m, ["real", "ghost"]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushmeshError);
      expect((error as PushmeshError).code).toBe("DEVICE_NOT_FOUND");
      expect(await store.latestSeq(appId, "real")).toBe(0);
      expect(await messageStatus(store, appId, m.messageId)).toBeNull();
    });

    it("writes queued together share a transaction and take each device's sequences in call order", async () => {
      await using store = await open();
      const { appId } = await store.createApp("group");
      const other = await store.createApp("group-other");
      for (const d of ["a", "b"]) await store.upsertDevice(appId, { deviceId: d });
      await store.upsertDevice(other.appId, { deviceId: "a" });
      await enqueue(store, message(appId), ["a"]);
      // One synchronous stretch: one group. `a` is named by four writes, and by another app.
      const writes = [["a", "b"], ["b"], ["a"], ["a", "b"], ["a"]].map((ids, i) =>
        enqueue(store, message(appId, { data: encodeData({ i }) }), ids),
      );
      const elsewhere = enqueue(store, message(other.appId), ["a"]);
      const results = await Promise.all(writes);
      expect(results.map((r) => r.filter((x) => x.deviceId === "a").map((x) => x.seq))).toEqual([[2], [], [3], [4], [5]]);
      expect(results.map((r) => r.filter((x) => x.deviceId === "b").map((x) => x.seq))).toEqual([[1], [2], [], [3], []]);
      expect((await elsewhere).map((x) => x.seq)).toEqual([1]);
      const inbox = await store.readInbox(appId, "a", 1, 10);
      expect(inbox.map((m) => [m.seq, bodyOf(m.data)])).toEqual([
        [2, { i: 0 }],
        [3, { i: 2 }],
        [4, { i: 3 }],
        [5, { i: 4 }],
      ]);
    });

    it("a failing write in a group fails alone; the others commit", async () => {
      await using store = await open();
      const { appId } = await store.createApp("group-fail");
      await store.upsertDevice(appId, { deviceId: "d" });
      const bad = message(appId);
      const [first, ghost, last] = await Promise.allSettled([
        enqueue(store, message(appId), ["d"]),
        enqueue(store, bad, ["d", "ghost"]),
        enqueue(store, message(appId), ["d"]),
      ]);
      expect(first).toMatchObject({ status: "fulfilled", value: [{ deviceId: "d", seq: 1 }] });
      expect(last).toMatchObject({ status: "fulfilled", value: [{ deviceId: "d", seq: 2 }] });
      expect(ghost.status).toBe("rejected");
      expect(((ghost as PromiseRejectedResult).reason as PushmeshError).code).toBe("DEVICE_NOT_FOUND");
      expect(await messageStatus(store, appId, bad.messageId)).toBeNull();
      expect(await store.latestSeq(appId, "d")).toBe(2);
    });

    it("a collapse key collapses pending rows, also of earlier writes in the same group, only on the devices it goes to", async () => {
      await using store = await open();
      const { appId } = await store.createApp("collapse");
      for (const d of ["a", "b", "c"]) await store.upsertDevice(appId, { deviceId: d });
      const old = message(appId, { collapseKey: "score" });
      await enqueue(store, old, ["a", "b", "c"]);
      await store.markDelivered([{ appId, deviceId: "b", seq: 1 }]);
      // In one group: `first` goes to a and b, `second` (same key) to a only, `plain` has no key.
      const first = message(appId, { collapseKey: "score" });
      const second = message(appId, { collapseKey: "score" });
      const plain = message(appId);
      const [written] = await Promise.all([
        enqueue(store, first, ["a", "b"]),
        enqueue(store, second, ["a"]),
        enqueue(store, plain, ["a"]),
      ]);
      expect(written!.find((x) => x.deviceId === "a")?.collapsed).toBe(true);
      expect(written!.find((x) => x.deviceId === "b")?.collapsed).toBe(false);
      const ids = async (d: string) => (await store.readInbox(appId, d, 0, 10)).map((m) => m.messageId);
      expect(await ids("a")).toEqual([second.messageId, plain.messageId]);
      // b's old row was delivered, not pending: it stays; c got none of the new messages.
      expect(await ids("b")).toEqual([old.messageId, first.messageId]);
      expect(await ids("c")).toEqual([old.messageId]);
      expect((await messageStatus(store, appId, old.messageId))?.states).toMatchObject({ pending: 1, delivered: 1, collapsed: 1 });
      expect((await messageStatus(store, appId, first.messageId))?.states).toMatchObject({ pending: 1, collapsed: 1 });
    });

    it("the same device id in two apps is two devices", async () => {
      await using store = await open();
      const a = await store.createApp("a");
      const b = await store.createApp("b");
      await store.upsertDevice(a.appId, { deviceId: "same" });
      await store.upsertDevice(b.appId, { deviceId: "same" });
      await enqueue(store, message(a.appId), ["same"]);
      await enqueue(store, message(a.appId), ["same"]);
      expect(await store.latestSeq(a.appId, "same")).toBe(2);
      expect(await store.latestSeq(b.appId, "same")).toBe(0);
      expect(await store.readInbox(b.appId, "same", 0, 10)).toEqual([]);
      const error = await enqueue(store, message(b.appId), ["only-in-a"]).catch((e: unknown) => e);
      expect((error as PushmeshError).code).toBe("DEVICE_NOT_FOUND");
    });

    it("a HELLO's reads: the device, then its latest seq and subscriptions in one read, never another app's", async () => {
      await using store = await open();
      const a = await store.createApp("hello-a");
      const b = await store.createApp("hello-b");
      const { device } = await store.upsertDevice(a.appId, { deviceId: "h", userId: "u", platform: "ios" });
      await store.upsertDevice(b.appId, { deviceId: "h" });
      expect(await store.getDevice(a.appId, "h")).toEqual({ ...device, userId: "u", platform: "ios", lastSeq: 0, ackedSeq: 0 });
      expect(await store.getDevice(a.appId, "nobody")).toBeNull();
      expect(await store.helloState(a.appId, "h")).toEqual({ latestSeq: 0, subscriptions: [] });
      await store.subscribeTopic(a.appId, "news", ["h"]);
      await store.subscribeTopic(b.appId, "other", ["h"]);
      await enqueue(store, message(a.appId, { priority: 2, collapseKey: "k", expiresAt: 9_999_999_999_999 }), ["h"]);
      const state = await store.helloState(a.appId, "h");
      expect(state.latestSeq).toBe(1);
      expect(state.subscriptions).toEqual([{ topic: "news", startOffset: 0 }]);
      expect(await store.helloState(a.appId, "nobody")).toEqual({ latestSeq: null, subscriptions: [] });
      const [row] = await store.readInbox(a.appId, "h", 0, 10);
      expect(row).toMatchObject({ seq: 1, priority: 2, collapseKey: "k", expiresAt: 9_999_999_999_999 });
      expect(bodyOf(row!.data)).toEqual({ hello: "world" });
      expect(typeof row?.createdAt).toBe("number");
    });

    it("many devices' latest seqs in one read: in the order asked, per app, null for unknown devices", async () => {
      await using store = await open();
      const a = await store.createApp("latest-a");
      const b = await store.createApp("latest-b");
      // Ids JSON must escape, since the pairs travel as one JSON argument.
      const ids = ["x", 'q"uote', "back\\slash", "ünï"];
      for (const id of ids) await store.upsertDevice(a.appId, { deviceId: id });
      await store.upsertDevice(b.appId, { deviceId: "x" });
      await enqueue(store, message(a.appId), ["x", 'q"uote']);
      await enqueue(store, message(a.appId), ["x"]);
      await enqueue(store, message(a.appId), ["ünï"]);
      await enqueue(store, message(b.appId), ["x"]);
      expect(await store.latestSeqs([])).toEqual([]);
      const asked = [
        { appId: a.appId, deviceId: "ünï" },
        { appId: b.appId, deviceId: "x" },
        { appId: a.appId, deviceId: "ghost" },
        { appId: a.appId, deviceId: "x" },
        { appId: a.appId, deviceId: "back\\slash" },
        { appId: a.appId, deviceId: 'q"uote' },
        { appId: a.appId, deviceId: "x" },
      ];
      expect(await store.latestSeqs(asked)).toEqual([1, 1, null, 2, 0, 1, 2]);
      // A chunk as large as a relay's polls read.
      const many = Array.from({ length: 500 }, (_, i) => ({ appId: a.appId, deviceId: ids[i % ids.length]! }));
      expect(await store.latestSeqs(many)).toEqual(many.map((r) => ({ x: 2, 'q"uote': 1, "back\\slash": 0, "ünï": 1 })[r.deviceId]!));
    });

    it("an app's secret is cached briefly: a rotated secret is seen once the cache lapses", async () => {
      await using store = await open();
      const { appId } = await store.createApp("secret");
      const now = Date.now();
      const first = await store.appSecret(appId, now);
      expect(first).toBe((await store.findApp(appId))!.tokenSecret);
      await store.db.update(apps).set({ tokenSecret: "rotated" }).where(eq(apps.id, appId));
      await store.freshen();
      expect(await store.appSecret(appId, now + 1000)).toBe(first);
      expect(await store.appSecret(appId, now + APP_SECRET_CACHE_MS + 1)).toBe("rotated");
      expect(await store.appSecret("app_unknown", now)).toBeNull();
    });

    it("reads page in sequence order; delivery marks are cumulative and idempotent", async () => {
      await using store = await open();
      const { appId } = await store.createApp("inbox");
      await store.upsertDevice(appId, { deviceId: "d" });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const m = message(appId, { data: encodeData({ i }) });
        ids.push(m.messageId);
        await enqueue(store, m, ["d"]);
      }
      const page = await store.readInbox(appId, "d", 1, 2);
      expect(page.map((m) => [m.seq, bodyOf(m.data)])).toEqual([
        [2, { i: 1 }],
        [3, { i: 2 }],
      ]);
      await store.markDelivered([{ appId, deviceId: "d", seq: 3 }]);
      await store.markDelivered([{ appId, deviceId: "d", seq: 2 }]);
      expect((await store.getDevice(appId, "d"))?.ackedSeq).toBe(3);
      expect((await messageStatus(store, appId, ids[2]!))?.states).toEqual({ pending: 0, delivered: 1, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
      expect((await messageStatus(store, appId, ids[3]!))?.states).toEqual({ pending: 1, delivered: 0, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
      await store.markExpired([{ appId, deviceId: "d", seq: 4 }]);
      expect((await messageStatus(store, appId, ids[3]!))?.states).toEqual({ pending: 0, delivered: 0, expired: 1, collapsed: 0, suppressed: 0, failed: 0 });
    });

    it("one batch of delivery marks for many devices marks each only up to its own seq", async () => {
      await using store = await open();
      const { appId } = await store.createApp("marks");
      const other = await store.createApp("other");
      const names = ["a", "b", "c"];
      for (const d of names) await store.upsertDevice(appId, { deviceId: d });
      await store.upsertDevice(other.appId, { deviceId: "a" });
      const sent: string[] = [];
      for (let i = 0; i < 4; i++) {
        const m = message(appId);
        sent.push(m.messageId);
        await enqueue(store, m, names);
        await enqueue(store, message(other.appId), ["a"]);
      }
      // "a" twice, the higher mark first: the device keeps the higher one.
      await store.markDelivered([
        { appId, deviceId: "a", seq: 3 },
        { appId, deviceId: "b", seq: 1 },
        { appId, deviceId: "a", seq: 2 },
      ]);
      expect((await store.getDevice(appId, "a"))?.ackedSeq).toBe(3);
      expect((await store.getDevice(appId, "b"))?.ackedSeq).toBe(1);
      expect((await store.getDevice(appId, "c"))?.ackedSeq).toBe(0);
      expect((await store.getDevice(other.appId, "a"))?.ackedSeq).toBe(0);
      const delivered = async (i: number) => (await messageStatus(store, appId, sent[i]!))?.states.delivered;
      expect([await delivered(0), await delivered(1), await delivered(2), await delivered(3)]).toEqual([2, 1, 1, 0]);
      // A later mark starts above the device's acked seq and still reaches every row up to its own.
      await store.markDelivered([{ appId, deviceId: "b", seq: 4 }]);
      expect([await delivered(0), await delivered(1), await delivered(2), await delivered(3)]).toEqual([2, 2, 2, 1]);
    });

    it("one flush of marks for more devices than one statement once took, with ids JSON must escape, writes every state and time", async () => {
      await using store = await open();
      const { appId } = await store.createApp("many marks");
      const names = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `d"${i}\\\u00e9` : `d-${i}`));
      // One statement for all of them: a write per device over HTTP would take seconds.
      await store.client.execute({
        sql: "INSERT INTO devices (app_id, id, epoch, created_at) SELECT ?, value, 1, 0 FROM json_each(?)",
        args: [appId, JSON.stringify(names)],
      });
      const first = message(appId);
      const second = message(appId);
      await enqueue(store, first, names);
      await enqueue(store, second, names);
      // Every device acks seq 1; the first 300 also seq 2. An expiry mark in the same flush touches only its own row.
      await store.markDelivered([...names.map((d) => ({ appId, deviceId: d, seq: 1 })), ...names.slice(0, 300).map((d) => ({ appId, deviceId: d, seq: 2 }))], 1234);
      await store.markExpired([{ appId, deviceId: names[599]!, seq: 2 }]);
      expect((await messageStatus(store, appId, first.messageId))?.states).toEqual({ pending: 0, delivered: 600, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
      expect((await messageStatus(store, appId, second.messageId))?.states).toEqual({ pending: 299, delivered: 300, expired: 1, collapsed: 0, suppressed: 0, failed: 0 });
      expect((await store.getDevice(appId, names[0]!))?.ackedSeq).toBe(2);
      expect((await store.getDevice(appId, names[450]!))?.ackedSeq).toBe(1);
      const times = await store.client.execute({ sql: "SELECT DISTINCT delivered_at FROM inbox WHERE state = 1 AND app_id = ?", args: [appId] });
      expect(times.rows.map((r) => Number(r.delivered_at))).toEqual([1234]);
    });

    it("a message past its expiry counts as expired while still pending", async () => {
      await using store = await open();
      const { appId } = await store.createApp("ttl");
      await store.upsertDevice(appId, { deviceId: "d" });
      const m = message(appId, { expiresAt: Date.now() - 1 });
      await enqueue(store, m, ["d"]);
      expect((await messageStatus(store, appId, m.messageId))?.states).toEqual({ pending: 0, delivered: 0, expired: 1, collapsed: 0, suppressed: 0, failed: 0 });
    });

    it("API keys authenticate to their app; unknown keys do not", async () => {
      await using store = await open();
      const { appId, apiKey } = await store.createApp("keys");
      expect(await store.authenticate(apiKey)).toMatchObject({ appId, scopes: ["send", "read", "admin"] });
      const readOnly = (await store.createApiKey(appId, "reader", ["read"])).key;
      expect((await store.authenticate(readOnly))?.scopes).toEqual(["read"]);
      expect(await store.authenticate("pm_unknown")).toBeNull();
    });

    it("devices keep their epoch across upserts and take new user ids", async () => {
      await using store = await open();
      const { appId } = await store.createApp("devices");
      const first = await store.upsertDevice(appId, { deviceId: "d", userId: "u1" });
      const second = await store.upsertDevice(appId, { deviceId: "d", userId: "u2" });
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.device.epoch).toBe(first.device.epoch);
      expect(second.device.userId).toBe("u2");
      expect(await store.getDevice(appId, "missing")).toBeNull();
    });

    it("a token revocation is kept on the device, per app, and touches nothing else of it", async () => {
      await using store = await open();
      const { appId } = await store.createApp("revocation");
      const { appId: otherApp } = await store.createApp("other");
      const { device } = await store.upsertDevice(appId, { deviceId: "d", userId: "u" });
      await store.upsertDevice(otherApp, { deviceId: "d" });
      expect(device.tokensRevokedAt).toBeNull();
      expect(await store.revokeDeviceTokens(appId, "d", 1_000)).toBe(true);
      expect(await store.revokeDeviceTokens(appId, "missing", 1_000)).toBe(false);
      expect(await store.getDevice(appId, "d")).toEqual({ ...device, tokensRevokedAt: 1_000 });
      expect((await store.getDevice(otherApp, "d"))?.tokensRevokedAt).toBeNull();
    });

    it("the node registry records, reports load and drains", async () => {
      await using store = await open();
      // A store may be shared between tests: this test's node has a name of its own.
      const id = `n-${crypto.randomUUID()}`;
      const node = {
        id, region: "eu", wsUrl: "ws://h:1", tcpAddr: "h:2", ips: ["10.0.0.1"], capacity: 10,
        connections: 0, draining: false, version: "1", weight: 100, startedAt: 1, updatedAt: 1,
      };
      await store.upsertNode(node);
      expect(await store.reportNodeLoad(id, 7, 50)).toEqual({ draining: false });
      expect(await store.setNodeDraining(id, true)).toBe(true);
      expect(await store.setNodeDraining("nope", true)).toBe(false);
      expect((await store.listNodes()).filter((n) => n.id === id)).toEqual([{ ...node, connections: 7, updatedAt: 50, draining: true }]);
      expect(await store.reportNodeLoad("nope", 1)).toBeNull();
      // A restart keeps an operator's drain, and drops the one the node's own graceful stop set.
      await store.upsertNode({ ...node, startedAt: 60, updatedAt: 60 });
      expect(await store.reportNodeLoad(id, 0, 61)).toEqual({ draining: true });
      expect(await store.setNodeDraining(id, true, "shutdown")).toBe(true);
      await store.upsertNode({ ...node, startedAt: 70, updatedAt: 70 });
      expect(await store.reportNodeLoad(id, 0, 71)).toEqual({ draining: false });
    });

    it("relay samples: one per node and minute, listed oldest first, pruned past a cutoff", async () => {
      await using store = await open();
      const nodeId = `n-${crypto.randomUUID()}`;
      const mine = async (since: number) => (await store.relaySamples(since)).filter((s) => s.nodeId === nodeId);
      const at = (minute: number) => 1_000_000_000_000 + minute * 60_000;
      const sample = (minute: number, pushed: number) => ({ nodeId, region: "eu", at: at(minute), pushed, delivered: pushed - 1, p50Ms: 4, p99Ms: null });
      await store.recordRelaySample(sample(2, 5), 0);
      await store.recordRelaySample(sample(1, 3), 0);
      await store.recordRelaySample(sample(2, 9), 0);
      expect(await mine(0)).toEqual([sample(1, 3), sample(2, 9)]);
      expect(await mine(at(2))).toEqual([sample(2, 9)]);
      await store.recordRelaySample(sample(3, 1), at(2));
      expect(await mine(0)).toEqual([sample(2, 9), sample(3, 1)]);
    });

    storeEdgeCases(open, it);
    retentionCases(open, it);
    homeDirectoryCases(open, it);
  });
}
