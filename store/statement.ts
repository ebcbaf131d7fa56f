// Statements as the libSQL client runs them, and the names hand-written SQL uses. The hot path
// (core/store/inbox-writes.ts, loadTargets) writes its SQL once at load time instead of building it
// with drizzle on every call; it takes table and column names from the drizzle schema through
// `sqlNames`, so the schema stays the one source of truth.
import type { Client, InValue } from "@libsql/client";
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { CasingCache } from "drizzle-orm/casing";

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

/** A client that answers one-row reads from statements it keeps prepared (relay/local-reads.ts). */
export type RowReader = { readRow(statement: Statement): Promise<Record<string, unknown> | undefined> };

/** The first row of a read: from the client's prepared statements where it keeps them, else through `execute`. */
export async function readRow(client: Client, statement: Statement): Promise<Record<string, unknown> | undefined> {
  const reader = client as Partial<RowReader>;
  if (typeof reader.readRow === "function") return reader.readRow(statement);
  return (await client.execute(statement)).rows[0];
}
