// The store contract against every store a process can open: a libSQL file (the single-node
// default), sqld over HTTP, and an embedded replica syncing from a sqld replica.
import { join } from "node:path";
import { storeContract } from "../store.contract.ts";
import type { LibsqlStore } from "../libsql-store.ts";
import { openStore } from "../open.ts";
import { tempDir } from "../../test-support/harness.ts";
import { sqldPair } from "../../test-support/sqld-fixture.ts";

const disposable = (store: LibsqlStore, cleanup = () => {}) =>
  Object.assign(store, {
    async [Symbol.asyncDispose]() {
      store.close();
      cleanup();
    },
  });

storeContract("libSQL file", async () => {
  const dir = tempDir();
  const store = await openStore({ db: `file:${join(dir.path, "store.db")}`, dbSync: "normal" });
  return disposable(store, () => dir[Symbol.dispose]());
});

// The two sqld suites share one primary: their cases run one at a time. Run all at once, many
// concurrent writers from as many clients made sqld spin on its write lock (160 % CPU) until every
// case after timed out (2 of 11 full runs on a busy 2-core machine).
storeContract("sqld primary over HTTP", async () => {
  const { primary } = await sqldPair();
  return disposable(await openStore({ db: primary.url, dbSync: "normal", migrateOnStart: false }));
}, { serial: true });

storeContract("embedded replica of a sqld replica", async () => {
  const { primary, replica } = await sqldPair();
  const dir = tempDir();
  const store = await openStore({
    db: `file:${join(dir.path, "replica.db")}`,
    dbSync: "normal",
    dbSyncUrl: replica.url,
    dbPrimaryUrl: primary.url,
    migrateOnStart: false,
  });
  return disposable(store, () => dir[Symbol.dispose]());
}, { serial: true });
