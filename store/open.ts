// Opens the libSQL store for a process and brings its schema up to date from migrations/.
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import { LibsqlStore } from "./libsql-store.ts";
import { openClient } from "./client/open-client.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

type StoreConfig = Pick<Config, "db" | "dbSync"> &
  Partial<Pick<Config, "dbAuthToken" | "dbSyncUrl" | "dbPrimaryUrl" | "dbSyncIntervalMs" | "dbLocalWriter" | "migrateOnStart">>;

export async function openStore(
  config: StoreConfig,
  log?: Log,
  options: ConstructorParameters<typeof LibsqlStore>[1] = {},
): Promise<LibsqlStore> {
  const store = new LibsqlStore(await openClient(config, log), options);
  if (config.migrateOnStart ?? true) await migrate(store.db, { migrationsFolder: MIGRATIONS_DIR });
  return store;
}
