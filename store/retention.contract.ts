// The store's retention contract: what a purge removes, and what it must never remove (an
// undelivered message within its TTL, a topic entry a subscriber still waits for). Each case's app
// sets its own retention and the mesh defaults are years long, so a purge touches only apps that
// set theirs. Cases sharing a server purge each other's rows too: they check what is left of their
// own app, not how many rows a purge counted.
import { expect, test } from "bun:test";
import { type ContractTest, type OpenStore, enqueue, message, purgeAll } from "./contract-support.ts";

const HOUR = 3600_000;

export function retentionCases(open: OpenStore, it: ContractTest = test): void {
  it("an app's retention reads back as set, null fields as the defaults' placeholders", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-settings");
    expect(await store.appRetention(appId)).toEqual({ settledSeconds: null, topicSeconds: null, topicMaxEntries: null });
    await store.setAppRetention(appId, { settledSeconds: 60, topicSeconds: null, topicMaxEntries: 5 });
    await store.setAppRetention(appId, { settledSeconds: 120, topicSeconds: null, topicMaxEntries: 5 });
    expect(await store.appRetention(appId)).toEqual({ settledSeconds: 120, topicSeconds: null, topicMaxEntries: 5 });
  });

  it("settled inbox rows and expired ones go once old; undelivered rows within their TTL and recent rows stay; then their messages", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-inbox");
    const { appId: other } = await store.createApp("retention-other");
    for (const a of [appId, other]) await store.upsertDevice(a, { deviceId: "d" });
    await store.setAppRetention(appId, { settledSeconds: 3600, topicSeconds: null, topicMaxEntries: null });
    const now = Date.now();
    const old = now - 3 * HOUR;
    const delivered = message(appId, { createdAt: old });
    const pendingForever = message(appId, { createdAt: old });
    const lapsed = message(appId, { createdAt: old, expiresAt: old + HOUR });
    const stillLive = message(appId, { createdAt: old, expiresAt: now + HOUR });
    const recent = message(appId, { createdAt: now - 60_000 });
    for (const m of [delivered, pendingForever, lapsed, stillLive, recent]) await enqueue(store, m, ["d"]);
    // Marks are cumulative: only seq 1 is delivered.
    await store.markDelivered([{ appId, deviceId: "d", seq: 1 }], old + 1000);
    const otherOld = message(other, { createdAt: old });
    await enqueue(store, otherOld, ["d"]);
    await store.markDelivered([{ appId: other, deviceId: "d", seq: 1 }], old + 1000);

    await purgeAll(store, "inbox", { now });
    await purgeAll(store, "messages", { now });
    const left = (await store.readInbox(appId, "d", 0, 10)).map((m) => m.messageId);
    expect(left).toEqual([pendingForever.messageId, stillLive.messageId, recent.messageId]);
    expect(await store.loadMessages([delivered.messageId, lapsed.messageId, pendingForever.messageId])).toHaveLength(1);
    // Another app, on the mesh's defaults, kept everything.
    expect(await store.readInbox(other, "d", 0, 10)).toHaveLength(1);
    // The sequence goes on from where it was: a purge never reuses a seq.
    expect(await store.latestSeq(appId, "d")).toBe(5);
  });

  it("a message still waiting for a scheduled target, or in a topic, is not purged with its settled rows", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-waiting");
    await store.upsertDevice(appId, { deviceId: "d" });
    await store.setAppRetention(appId, { settledSeconds: 60, topicSeconds: null, topicMaxEntries: null });
    const now = Date.now();
    const scheduled = message(appId, { createdAt: now - 2 * HOUR });
    await store.writeMessage({ message: scheduled, targetCount: 1, deliver: [], deferred: [{ deviceId: "d", state: "scheduled", reason: "schedule", releaseAt: now + HOUR }], at: scheduled.createdAt });
    const topical = message(appId, { createdAt: now - 2 * HOUR });
    await store.publishTopic(topical, "news");
    await purgeAll(store, "waiting", { now });
    await purgeAll(store, "messages", { now });
    expect(await store.loadMessages([scheduled.messageId, topical.messageId])).toHaveLength(2);
  });

  it("topic entries past the count or age go only once every subscriber has had them, or they expired", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-topics");
    for (const deviceId of ["fast", "slow"]) await store.upsertDevice(appId, { deviceId });
    await store.setAppRetention(appId, { settledSeconds: 60, topicSeconds: 3600, topicMaxEntries: 2 });
    await store.subscribeTopic(appId, "news", ["fast", "slow"]);
    const now = Date.now();
    const ids: string[] = [];
    for (let n = 1; n <= 6; n++) {
      // Offsets 1-3 are old; 4 expired; 5-6 recent.
      const m = message(appId, { createdAt: n <= 4 ? now - 2 * HOUR : now, expiresAt: n === 4 ? now - HOUR : null });
      ids.push(m.messageId);
      await store.publishTopic(m, "news");
    }
    await store.markTopicDelivered([{ appId, deviceId: "fast", topic: "news", offset: 6 }, { appId, deviceId: "slow", topic: "news", offset: 2 }]);
    // Past retention: 1-4 (count keeps only 5-6). Had by both: 1-2. Expired: 4. Offset 3 waits for "slow".
    await purgeAll(store, "topic_entries", { now });
    expect((await store.readTopic(appId, "news", 0, 10)).map((t) => t.offset)).toEqual([3, 5, 6]);
    await purgeAll(store, "messages", { now });
    expect(await store.loadMessages(ids)).toHaveLength(3);
    await store.markTopicDelivered([{ appId, deviceId: "slow", topic: "news", offset: 6 }]);
    await purgeAll(store, "topic_entries", { now });
    expect((await store.readTopic(appId, "news", 0, 10)).map((t) => t.offset)).toEqual([5, 6]);
  });

  it("a window never deletes more than it looked at, and a table's end answers null", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-window");
    await store.upsertDevice(appId, { deviceId: "d" });
    await store.setAppRetention(appId, { settledSeconds: 60, topicSeconds: null, topicMaxEntries: null });
    const old = Date.now() - HOUR;
    for (let n = 0; n < 10; n++) await enqueue(store, message(appId, { createdAt: old }), ["d"]);
    await store.markDelivered([{ appId, deviceId: "d", seq: 10 }], old);
    const defaults = { settledSeconds: 10 * 365 * 24 * 3600, topicSeconds: 1, topicMaxEntries: 1, idempotencySeconds: 1, frequencySeconds: 1 };
    let cursor: number | null = 0;
    let through: number | null = null;
    for (let steps = 0; cursor !== null; steps++) {
      expect(steps).toBeLessThan(10_000);
      const step = await store.purgeStep({ kind: "inbox", cursor, through, limit: 3, now: Date.now(), defaults });
      expect(step.deleted).toBeLessThanOrEqual(3);
      if (step.next !== null) expect(step.next).toBeGreaterThan(cursor);
      if (through !== null) expect(step.through).toBe(through);
      cursor = step.next;
      through = step.through;
    }
    expect(await store.readInbox(appId, "d", 0, 20)).toEqual([]);
  });

  it("a pass ends at the rows there when it began: rows written during it wait for the next pass", async () => {
    await using store = await open();
    const { appId } = await store.createApp("retention-horizon");
    await store.upsertDevice(appId, { deviceId: "d" });
    await store.setAppRetention(appId, { settledSeconds: 60, topicSeconds: null, topicMaxEntries: null });
    const old = Date.now() - HOUR;
    const defaults = { settledSeconds: 10 * 365 * 24 * 3600, topicSeconds: 1, topicMaxEntries: 1, idempotencySeconds: 1, frequencySeconds: 1 };
    await enqueue(store, message(appId, { createdAt: old }), ["d"]);
    await store.markDelivered([{ appId, deviceId: "d", seq: 1 }], old);
    const first = await store.purgeStep({ kind: "inbox", cursor: 0, through: null, limit: 1_000_000, now: Date.now(), defaults });
    await enqueue(store, message(appId, { createdAt: old }), ["d"]);
    await store.markDelivered([{ appId, deviceId: "d", seq: 2 }], old);
    let cursor = first.next;
    while (cursor !== null) cursor = (await store.purgeStep({ kind: "inbox", cursor, through: first.through, limit: 1_000_000, now: Date.now(), defaults })).next;
    expect((await store.readInbox(appId, "d", 0, 10)).map((m) => m.seq)).toEqual([2]);
    await purgeAll(store, "inbox");
    expect(await store.readInbox(appId, "d", 0, 10)).toEqual([]);
  });
}
