// The local file's group writer: its commit leaves the event loop free, the other connection's
// writes and reads go on beside it, and closing waits for the transaction in flight.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { isGroupWriter } from "../group-commit.ts";
import { openStore } from "../open.ts";
import { enqueue, message } from "../contract-support.ts";
import { tempDir } from "../../test-support/harness.ts";

async function fileStore(dbSync: "full" | "normal" = "full") {
  const dir = tempDir();
  const store = await openStore({ db: `file:${join(dir.path, "store.db")}`, dbSync, dbLocalWriter: true });
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      store.close();
      dir[Symbol.dispose]();
    },
  });
}

test("a file store writes its groups through the local writer; the event loop runs while a group commits", async () => {
  await using store = await fileStore("full");
  expect(isGroupWriter(store.client)).toBe(true);
  const { appId } = await store.createApp("loop");
  await store.upsertDevice(appId, { deviceId: "d" });
  const ranDuringCommit: boolean[] = [];
  for (let i = 0; i < 20; i++) {
    const writing = enqueue(store, message(appId), ["d"]);
    // Queued after the turn that starts the group: a commit that blocked the loop (the client's
    // batch) would resolve the write before this runs.
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await writing;
    ranDuringCommit.push(ran);
  }
  expect(ranDuringCommit).toEqual(Array.from({ length: 20 }, () => true));
  expect(await store.latestSeq(appId, "d")).toBe(20);
});

test("the other connection's writes and reads go on while groups commit, and see them", async () => {
  await using store = await fileStore("full");
  const { appId } = await store.createApp("beside");
  for (const d of ["a", "b"]) await store.upsertDevice(appId, { deviceId: d });
  const sends: Promise<unknown>[] = [];
  const marks: Promise<unknown>[] = [];
  const node = { id: "n", region: "r", wsUrl: "ws://h", tcpAddr: "h:1", ips: [], capacity: 1, connections: 0, draining: false, version: "1", weight: 100, startedAt: 0, updatedAt: 0 };
  await store.upsertNode(node);
  const stale: number[] = [];
  for (let i = 1; i <= 200; i++) {
    const sent = enqueue(store, message(appId), ["a", "b"]);
    sends.push(sent);
    if (i % 20 === 0) {
      // Acks, registrations and load reports write on the client's own connection, some while a
      // group commits; none may fail or leave that connection on an old snapshot.
      for (let turn = 0; turn < 6; turn++) {
        await new Promise((r) => setImmediate(r));
        marks.push(store.markDelivered([{ appId, deviceId: "a", seq: i - 10 }]));
        marks.push(store.upsertDevice(appId, { deviceId: `late-${i}-${turn}` }));
        marks.push(store.reportNodeLoad("n", i));
      }
      const seq = (await sent)[0]!.seq;
      const reads = await Promise.all(Array.from({ length: 6 }, () => store.latestSeq(appId, "b")));
      for (const read of reads) if (read! < seq) stale.push(read!);
    }
  }
  await Promise.all([...sends, ...marks]);
  expect(stale).toEqual([]);
  expect(await store.latestSeq(appId, "a")).toBe(200);
  expect((await store.readInbox(appId, "b", 0, 1000)).map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  expect((await store.getDevice(appId, "a"))?.ackedSeq).toBe(190);
  expect(await store.getDevice(appId, "late-200-5")).not.toBeNull();
});

test("closing the client while a group commits lets that group finish", async () => {
  const dir = tempDir();
  const path = join(dir.path, "store.db");
  const store = await openStore({ db: `file:${path}`, dbSync: "full", dbLocalWriter: true });
  const { appId } = await store.createApp("close");
  await store.upsertDevice(appId, { deviceId: "d" });
  const writing = enqueue(store, message(appId), ["d"]);
  await new Promise((r) => setImmediate(r));
  store.close();
  expect(await writing).toMatchObject([{ deviceId: "d", seq: 1 }]);
  const reopened = await openStore({ db: `file:${path}`, dbSync: "full", dbLocalWriter: true });
  expect(await reopened.latestSeq(appId, "d")).toBe(1);
  await expect(enqueue(store, message(appId), ["d"])).rejects.toThrow();
  reopened.client.close();
  dir[Symbol.dispose]();
});
