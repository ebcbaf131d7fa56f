// One-row reads on the send path (loadTargets) for a local file, from statements prepared once on
// a read-only connection of their own. Through @libsql/client every call prepared its statement
// again and asked for its columns' names and types: 40–85 µs a send, against 5–25 µs here.
import type { InValue } from "@libsql/client";
import Database from "libsql";
import type { RowReader, Statement } from "../statement.ts";

type Prepared = { get(args: unknown[]): Record<string, unknown> | undefined };
type Connection = { prepare(sql: string): Prepared; exec(sql: string): unknown; close(): void };

/** Distinct statement texts kept prepared. */
const MAX_PREPARED = 64;

export const toSqlValue = (value: InValue | undefined): unknown =>
  value === undefined ? null : typeof value === "boolean" ? Number(value) : value instanceof Date ? value.getTime() : value instanceof ArrayBuffer ? new Uint8Array(value) : value;

export class LocalRowReader implements RowReader {
  private db: Connection | null = null;
  private readonly prepared = new Map<string, Prepared>();
  private closed = false;

  constructor(private readonly path: string) {}

  private connection(): Connection {
    if (this.closed) throw new Error("The client is closed");
    if (!this.db) {
      const db = new Database(this.path) as unknown as Connection;
      db.exec("PRAGMA query_only = 1");
      this.db = db;
    }
    return this.db;
  }

  /** `get` steps to the first row and resets the statement, so no read transaction outlives the call. */
  async readRow(statement: Statement): Promise<Record<string, unknown> | undefined> {
    const db = this.connection();
    let prepared = this.prepared.get(statement.sql);
    if (!prepared) {
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      prepared = db.prepare(statement.sql);
      this.prepared.set(statement.sql, prepared);
    }
    try {
      return prepared.get(statement.args.map(toSqlValue));
    } catch (error) {
      // A statement that failed half-way could hold its snapshot: start over on a new connection.
      this.drop();
      throw error;
    }
  }

  private drop(): void {
    this.prepared.clear();
    this.db?.close();
    this.db = null;
  }

  close(): void {
    this.closed = true;
    this.drop();
  }
}
