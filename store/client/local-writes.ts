// The group commit's writer for a local file: a connection of its own whose statements are
// prepared once, and whose COMMIT runs on a libsql worker thread. Through
// @libsql/client the commit (an fsync with dbSync full: 0.5–2 ms here) blocked the event loop,
// and every request in the process waited for it; now requests go on while it runs, and the next
// group collects them. Reads and all other writes stay on the @libsql/client connection; reads run
// while this commit is in flight (WAL), other writes wait their turn (LocalFileClient).
import type { Client, InArgs, InStatement, ResultSet, TransactionMode } from "@libsql/client";
import Database from "libsql/promise";
import type { GroupWriter, RunBatch } from "../group-commit.ts";
import type { RowReader, Statement } from "../statement.ts";
import { type LocalRowReader, toSqlValue } from "./local-reads.ts";

type Prepared = { reader: boolean; run(args: unknown[]): unknown; get(args: unknown[]): Record<string, unknown> | undefined };
type Connection = { exec(sql: string): Promise<unknown>; prepare(sql: string): Promise<Prepared>; close(): void };

/** Distinct statement texts kept prepared; deferred-target inserts vary with their row count, so the cache is bounded. */
const MAX_PREPARED = 256;

export class LocalGroupWriter {
  private readonly prepared = new Map<string, Prepared>();
  private inFlight = 0;
  private closing = false;

  private constructor(
    private readonly db: Connection,
    private readonly begin: Prepared,
    private readonly rollback: Prepared,
  ) {}

  static async open(path: string, synchronous: "FULL" | "NORMAL"): Promise<LocalGroupWriter> {
    const db = new Database(path, {}) as unknown as Connection;
    await db.exec("PRAGMA busy_timeout = 5000");
    await db.exec(`PRAGMA synchronous = ${synchronous}`);
    return new LocalGroupWriter(db, await db.prepare("BEGIN IMMEDIATE"), await db.prepare("ROLLBACK"));
  }

  /**
   * Runs the statements as one transaction; the caller runs one at a time. Everything from BEGIN
   * to the last statement runs without yielding to the event loop; only COMMIT runs on a worker
   * thread, and it needs nothing from the loop.
   */
  async write(statements: Statement[]): Promise<{ rows: Record<string, unknown>[] }[]> {
    if (this.closing) throw new Error("The client is closed");
    this.inFlight++;
    try {
      const prepared: Prepared[] = [];
      for (const { sql } of statements) prepared.push(await this.statement(sql));
      this.begin.run([]);
      let results: { rows: Record<string, unknown>[] }[];
      try {
        results = statements.map(({ args }, n) => {
          const statement = prepared[n]!;
          const values = args.map(toSqlValue);
          if (!statement.reader) {
            statement.run(values);
            return { rows: [] };
          }
          const row = statement.get(values);
          return { rows: row ? [row] : [] };
        });
      } catch (error) {
        // Some errors end the transaction themselves; the statement's error is the one to report.
        try {
          this.rollback.run([]);
        } catch {}
        throw error;
      }
      try {
        await this.db.exec("COMMIT");
      } catch (error) {
        await this.db.exec("ROLLBACK").catch(() => {});
        throw error;
      }
      return results;
    } finally {
      this.inFlight--;
      if (this.closing && this.inFlight === 0) this.db.close();
    }
  }

  private async statement(sql: string): Promise<Prepared> {
    const cached = this.prepared.get(sql);
    if (cached) return cached;
    if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
    const statement = await this.db.prepare(sql);
    this.prepared.set(sql, statement);
    return statement;
  }

  /** Closes now, or after the transaction in flight. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight === 0) this.db.close();
  }
}

const READ_ONLY = /^\s*(SELECT|WITH|PRAGMA\s+\w+\s*$)/i;
const sqlOf = (stmt: InStatement | [string, InArgs?]) => (typeof stmt === "string" ? stmt : Array.isArray(stmt) ? stmt[0] : stmt.sql);

/**
 * The @libsql/client for a local file, with the group writer and the row reader beside it (the
 * store finds them by `writeGroup` and `readRow`). Writes take turns across the two connections: one that found the other's
 * lock would wait in SQLite's busy handler, blocking the event loop, or, on a pool connection
 * without a busy timeout, fail at once, and a failed statement can leave that connection reading
 * an old snapshot. Reads go straight through: WAL never makes them wait.
 */
export class LocalFileClient implements Client, GroupWriter, RowReader {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inner: Client,
    private readonly writer: LocalGroupWriter,
    private readonly reader: LocalRowReader,
  ) {}

  private exclusive<T>(write: () => Promise<T>): Promise<T> {
    const result = this.turn.then(write);
    this.turn = result.catch(() => {});
    return result;
  }

  readonly writeGroup: RunBatch = (statements) => this.exclusive(() => this.writer.write(statements));

  readRow(statement: Statement): Promise<Record<string, unknown> | undefined> {
    return this.reader.readRow(statement);
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const run = () => (typeof stmt === "string" ? this.inner.execute(stmt, args) : this.inner.execute(stmt));
    return READ_ONLY.test(sqlOf(stmt)) ? run() : this.exclusive(run);
  }

  batch(stmts: Array<InStatement | [string, InArgs?]>, mode?: TransactionMode): Promise<ResultSet[]> {
    const run = () => this.inner.batch(stmts, mode);
    return mode === "read" || stmts.every((s) => READ_ONLY.test(sqlOf(s))) ? run() : this.exclusive(run);
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.exclusive(() => this.inner.migrate(stmts));
  }

  /** Interactive transactions start after the writes queued before them; nothing here uses them. */
  async transaction(mode?: TransactionMode) {
    await this.turn;
    return this.inner.transaction(mode);
  }

  executeMultiple(sql: string): Promise<void> {
    return this.exclusive(() => this.inner.executeMultiple(sql));
  }

  sync() {
    return this.inner.sync();
  }

  close(): void {
    this.writer.close();
    this.reader.close();
    this.inner.close();
  }

  reconnect(): void {
    this.inner.reconnect();
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  get protocol(): string {
    return this.inner.protocol;
  }
}
