// Opens the libSQL store for a process and brings its schema up to date from migrations/.
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import { homedStore } from "./homed-store.ts";
import { LibsqlStore } from "./libsql-store.ts";
import { openClient } from "./client/open-client.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

type StoreConfig = Pick<Config, "db" | "dbSync"> &
  Partial<
    Pick<Config, "dbAuthToken" | "dbSyncUrl" | "dbPrimaryUrl" | "dbSyncIntervalMs" | "dbLocalWriter" | "migrateOnStart" | "globalDb" | "globalDbSyncUrl" | "globalDbPrimaryUrl" | "region">
  >;

export async function openStore(
  config: StoreConfig,
  log?: Log,
  options: ConstructorParameters<typeof LibsqlStore>[1] = {},
): Promise<LibsqlStore> {
  const store = new LibsqlStore(await openClient(config, log), options);
  if (config.migrateOnStart ?? true) await migrate(store.db, { migrationsFolder: MIGRATIONS_DIR });
  return store;
}

/** The process's Store: the one database, or with `globalDb` its home store and the global database together. */
export async function openProcessStore(config: StoreConfig, log?: Log, options: ConstructorParameters<typeof LibsqlStore>[1] = {}): Promise<Store> {
  const home = await openStore(config, log, options);
  if (!config.globalDb) return home;
  const global = await openStore(
    { ...config, db: config.globalDb, dbSyncUrl: config.globalDbSyncUrl, dbPrimaryUrl: config.globalDbPrimaryUrl },
    log,
  );
  return homedStore(global, home, config.region ?? "local");
}
