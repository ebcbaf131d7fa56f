// One sqld primary and one replica per test file, started on first use and stopped after the
// file's tests. Tests sharing them stay apart by using apps, devices and nodes of their own.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../store/open.ts";
import { type Sqld, startSqld } from "../ops/sqld.ts";

export type SqldPair = { primary: Sqld; replica: Sqld; dir: string };

let pair: Promise<SqldPair> | null = null;

// Registered when a test file imports this module; stops the pair only if one was started.
afterAll(async () => {
  if (!pair) return;
  const { primary, replica, dir } = await pair;
  await Promise.all([replica.stop(), primary.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

export function sqldPair(): Promise<SqldPair> {
  pair ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "pushmesh-sqld-"));
    const primary = await startSqld({ dir: join(dir, "primary") });
    const replica = await startSqld({ dir: join(dir, "replica"), primaryGrpcUrl: primary.grpcUrl! });
    const migrator = await openStore({ db: primary.url, dbSync: "normal" });
    migrator.close();
    return { primary, replica, dir };
  })();
  return pair;
}
