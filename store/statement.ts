// How the store writes SQL: two styles, one per layer, and no third.
// - Hot path (a statement run per send, per push, per ack or per HELLO: the group-commit write in
//   message-writes.ts, delivery-marks.ts, device-reads.ts, the send's target read in
//   preferences.ts, frequency slots in deferred.ts): statement text written once at load time from
//   the schema's names (`sqlNames`), run on the libSQL client. Building these with drizzle on every
//   call cost more CPU than running them (profiles of bench/throughput.ts and bench/storm.ts).
// - Everything else (apps, keys, registry, preferences, schedules, topics, tracking): drizzle's
//   query builder, with its `sql` helper only for expressions inside a builder query.
// Whole statements in drizzle `sql` templates are not used. The drizzle schema (schema.ts) is the
// one source of names either way.
import type { Client, InValue } from "@libsql/client";
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { CasingCache } from "drizzle-orm/casing";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import type { schema } from "./schema.ts";

/** The drizzle database; `$client` is the libSQL client under it, for the hot path's statements. */
export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

/** One statement of a store batch, as the client takes it. */
export type Statement = { sql: string; args: InValue[] };

/** A drizzle query builder's SQL and parameters, for joining a batch the client runs itself. */
export function toStatement(query: { toSQL(): { sql: string; params: unknown[] } }): Statement {
  const { sql, params } = query.toSQL();
  return { sql, args: params as InValue[] };
}

const casing = new CasingCache("snake_case");
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The table's name and each column's name as they appear in SQL (the store's drizzle instance uses
 * snake_case casing), quoted: `sqlNames(inbox).c.deviceId` is `"device_id"`.
 */
export function sqlNames<T extends Table>(table: T): { t: string; c: { [K in keyof T["_"]["columns"]]: string } } {
  const columns = getTableColumns(table);
  const c = Object.fromEntries(Object.entries(columns).map(([key, column]) => [key, quote(casing.getColumnCasing(column))]));
  return { t: quote(getTableName(table)), c: c as { [K in keyof T["_"]["columns"]]: string } };
}

/** A client that answers one-row reads from statements it keeps prepared (store/client/local-reads.ts). */
export type RowReader = { readRow(statement: Statement): Promise<Record<string, unknown> | undefined> };

/** The first row of a read: from the client's prepared statements where it keeps them, else through `execute`. */
export async function readRow(client: Client, statement: Statement): Promise<Record<string, unknown> | undefined> {
  const reader = client as Partial<RowReader>;
  if (typeof reader.readRow === "function") return reader.readRow(statement);
  return (await client.execute(statement)).rows[0];
}
