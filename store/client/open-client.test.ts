import { expect, test } from "bun:test";
import type { Client } from "@libsql/client";
import { FailoverReplica } from "./open-client.ts";

/** A replica whose syncs finish only when the test says so. */
function heldReplica() {
  const pending: (() => void)[] = [];
  let started = 0;
  const client = {
    sync: () => {
      started++;
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    close: () => {},
  } as unknown as Client;
  return { client, started: () => started, finishOne: () => pending.shift()?.() };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("a sync request waits for one sync that started after it, not for every sync others ask for meanwhile", async () => {
  const replica = heldReplica();
  const client = new FailoverReplica(replica.client, null, () => {});
  let firstDone = false;
  let laterDone = false;
  void client.sync().then(() => (firstDone = true)); // starts sync 1
  await tick();
  let secondDone = false;
  void client.sync().then(() => (secondDone = true)); // asked during sync 1: served by sync 2
  expect(replica.started()).toBe(1);
  replica.finishOne();
  await tick();
  expect(firstDone).toBe(true);
  expect(secondDone).toBe(false);
  expect(replica.started()).toBe(2);
  void client.sync().then(() => (laterDone = true)); // asked during sync 2: served by sync 3
  replica.finishOne();
  await tick();
  // The old loop kept going while anyone asked again, and held every earlier caller with it.
  expect(secondDone).toBe(true);
  expect(laterDone).toBe(false);
  replica.finishOne();
  await tick();
  expect(laterDone).toBe(true);
  expect(replica.started()).toBe(3);
  client.close();
});

test("requests made during one sync share the next one, and a failed sync still answers them", async () => {
  let calls = 0;
  const failing = {
    sync: async () => {
      calls++;
      await tick();
      throw new Error("snapshot not found");
    },
    close: () => {},
  } as unknown as Client;
  const client = new FailoverReplica(failing, null, () => {});
  const first = client.sync();
  await Promise.all([first, client.sync(), client.sync(), client.sync()]);
  expect(calls).toBe(2);
  await client.sync();
  expect(calls).toBe(3);
  client.close();
});

test("a group write returns at the primary's commit; a read made after it waits for the sync that brings it", async () => {
  const syncs: (() => void)[] = [];
  const reads: string[] = [];
  const replica = {
    sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
    execute: async (stmt: { sql: string }) => {
      reads.push(stmt.sql);
      return { rows: [] };
    },
    close: () => {},
  } as unknown as Client;
  const primary = { batch: async () => [{ rows: [] }], close: () => {} } as unknown as Client;
  const client = new FailoverReplica(replica, primary, () => {});
  await client.writeGroup([{ sql: "insert into t values (1)", args: [] }]);
  expect(syncs).toHaveLength(1); // started, not finished, and the write has returned
  let read = false;
  const reading = client.execute({ sql: "select * from t", args: [] }).then(() => (read = true));
  await tick();
  expect(read).toBe(false);
  expect(reads).toEqual([]);
  syncs.shift()!();
  await reading;
  expect(reads).toEqual(["select * from t"]);
  // Other writes still return only once their sync has landed.
  let written = false;
  const writing = client.batch([{ sql: "update t set x = 2", args: [] }], "write").then(() => (written = true));
  await tick();
  await tick();
  expect(written).toBe(false);
  syncs.shift()!();
  await writing;
  expect(written).toBe(true);
  client.close();
});

test("writes go to the primary one at a time; reads do not wait for them", async () => {
  let running = 0;
  let most = 0;
  const release: (() => void)[] = [];
  const primary = {
    execute: async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return { rows: [] };
    },
    close: () => {},
  } as unknown as Client;
  let reads = 0;
  const replica = {
    sync: async () => {},
    execute: async () => {
      reads++;
      return { rows: [] };
    },
    close: () => {},
  } as unknown as Client;
  const client = new FailoverReplica(replica, primary, () => {});
  const writes = Array.from({ length: 5 }, (_, n) => client.execute({ sql: `insert into t values (${n})`, args: [] }));
  await tick();
  expect(running).toBe(1);
  await client.execute({ sql: "select 1", args: [] });
  expect(reads).toBe(1);
  while (release.length > 0 || running > 0) {
    release.shift()?.();
    await tick();
  }
  await Promise.all(writes);
  expect(most).toBe(1);
  client.close();
});
