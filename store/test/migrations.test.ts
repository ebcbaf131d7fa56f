// Upgrading a store keeps what it held: a store written before migration 0003 (message bodies as
// JSON text) is migrated in place and every pending message is still pushed, as CBOR.
import { expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrate } from "drizzle-orm/libsql/migrator";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { decodeValue } from "../../core/codec.ts";
import { tempDir } from "../../test-support/harness.ts";
import { MIGRATIONS_DIR, openStore } from "../open.ts";

/** The migrations folder as it stood before `tag`, in `dir`. */
function migrationsBefore(dir: string, tag: string): string {
  const folder = join(dir, "migrations-old");
  cpSync(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag.startsWith(tag));
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return folder;
}

test("a store from before 0003 keeps every pending message deliverable after the upgrade", async () => {
  using dir = tempDir();
  const url = `file:${join(dir.path, "old.db")}`;
  const client = createClient({ url });
  await migrate(drizzle(client), { migrationsFolder: migrationsBefore(dir.path, "0003") });
  await client.batch(
    [
      "INSERT INTO apps (id, name, token_secret, created_at) VALUES ('app_old', 'old', 's', 1)",
      "INSERT INTO devices (app_id, id, epoch, last_seq, created_at) VALUES ('app_old', 'd', 7, 1, 1)",
      `INSERT INTO messages (id, app_id, priority, data, created_at, target_count) VALUES ('m-old', 'app_old', 1, '{"title":"kept","n":[1,2.5]}', 1, 1)`,
      "INSERT INTO inbox (app_id, device_id, seq, message_id, state) VALUES ('app_old', 'd', 1, 'm-old', 0)",
      "INSERT INTO topics (app_id, name, last_offset, created_at) VALUES ('app_old', 'news', 0, 1)",
      "INSERT INTO topic_subscriptions (app_id, topic, device_id, start_offset, created_at) VALUES ('app_old', 'news', 'd', 0, 1)",
    ],
    "write",
  );
  client.close();

  const store = await openStore({ db: url, dbSync: "normal" });
  try {
    const [row] = await store.readInbox("app_old", "d", 0, 10);
    expect(row).toMatchObject({ seq: 1, messageId: "m-old" });
    expect(row!.data).toBeInstanceOf(Uint8Array);
    expect(decodeValue(row!.data as Uint8Array)).toEqual({ title: "kept", n: [1, 2.5] });
    expect(await store.helloState("app_old", "d")).toEqual({ latestSeq: 1, subscriptions: [{ topic: "news", startOffset: 0 }] });
    await store.markTopicDelivered([{ appId: "app_old", deviceId: "d", topic: "news", offset: 3 }]);
  } finally {
    store.close();
  }
});
