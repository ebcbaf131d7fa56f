// Syncs on a worker thread; reads on a plain connection to the same file see what they pulled.
import { expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { ReplicaSyncWorker } from "../client/replica-sync.ts";
import { tempDir } from "../../test-support/harness.ts";
import { startSqld } from "../../ops/sqld.ts";

test("what the worker's sync pulls is read by a plain connection on the same file, sync after sync", async () => {
  // Its own sqld pair: relay/test/sqld-fixture.ts stops the shared one after the first file using it.
  using dir = tempDir();
  const primary = await startSqld({ dir: join(dir.path, "primary") });
  const replica = await startSqld({ dir: join(dir.path, "replica"), primaryGrpcUrl: primary.grpcUrl! });
  const url = `file:${join(dir.path, "replica.db")}`;
  const writer = createClient({ url: primary.url });
  const table = `sync_probe_${crypto.randomUUID().replaceAll("-", "")}`;
  await writer.execute(`create table ${table} (n integer)`);
  const syncer = await ReplicaSyncWorker.open({ url, syncUrl: replica.url });
  try {
    await syncer.sync();
    const reader = createClient({ url });
    try {
      for (let n = 1; n <= 3; n++) {
        await writer.execute({ sql: `insert into ${table} values (?)`, args: [n] });
        // The regional sqld follows the primary on its own schedule: sync until it has caught up.
        let seen = 0;
        for (let i = 0; i < 100 && seen < n; i++) {
          await syncer.sync();
          seen = Number((await reader.execute(`select count(*) as c from ${table}`)).rows[0]!.c);
          if (seen < n) await Bun.sleep(50);
        }
        expect(seen).toBe(n);
      }
    } finally {
      reader.close();
    }
  } finally {
    await syncer.close();
    writer.close();
    await Promise.all([replica.stop(), primary.stop()]);
  }
});

test("a replica whose server does not answer fails to open with the server's error, and leaves no worker behind", async () => {
  using dir = tempDir();
  const opening = ReplicaSyncWorker.open({ url: `file:${join(dir.path, "orphan.db")}`, syncUrl: "http://127.0.0.1:9" });
  await expect(opening).rejects.toThrow(/connect/i);
});
