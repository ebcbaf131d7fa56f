// The libSQL client a process uses, by configuration:
// - `file:` alone: the embedded single-node store;
// - `http(s)://` or `libsql://`: sqld or Turso over the network;
// - `file:` with a sync URL: an embedded replica. Reads are local. With a primary URL, writes go
//   straight to the primary and a worker thread syncs the file (relay/replica-sync.ts); without
//   one, writes go through the sync URL (a regional sqld replica forwards them to the primary).
//   When the sync URL stops answering, reads go to the primary until it answers again.
import { existsSync, statSync } from "node:fs";
import { type Client, createClient, type InArgs, type InStatement, type ResultSet, type TransactionMode } from "@libsql/client";
import type { Config } from "../../core/config.ts";
import type { RunBatch } from "../group-commit.ts";
import type { Statement } from "../statement.ts";
import type { Log } from "../../core/log.ts";
import { LocalRowReader } from "./local-reads.ts";
import { LocalFileClient, LocalGroupWriter } from "./local-writes.ts";
import { ReplicaSyncWorker } from "./replica-sync.ts";

type StoreConfig = Pick<Config, "db" | "dbSync"> &
  Partial<Pick<Config, "dbAuthToken" | "dbSyncUrl" | "dbPrimaryUrl" | "dbSyncIntervalMs" | "dbLocalWriter">>;

export async function openClient(config: StoreConfig, log: Log = () => {}): Promise<Client> {
  const local = config.db.startsWith("file:") || config.db === ":memory:";
  if (local && config.dbSyncUrl) {
    const primary = config.dbPrimaryUrl ? createClient({ url: config.dbPrimaryUrl, authToken: config.dbAuthToken }) : null;
    let client: FailoverReplica;
    if (primary) {
      // Writes go to the primary, so the file is only read here: a plain connection reads it while
      // a worker thread pulls frames into it, and no sync blocks this event loop.
      const path = filePath(config.db);
      const synced = path !== null && existsSync(path) && statSync(path).size > 0;
      const syncer = new ReopeningSyncer({ url: config.db, syncUrl: config.dbSyncUrl, authToken: config.dbAuthToken });
      try {
        await syncer.sync();
      } catch (error) {
        // A replica synced before starts on what it has (an edge restarted while the store is
        // away must serve its spool); one that never synced has nothing to serve from.
        if (!synced) throw error;
        log("store_replica_unreachable", { error: String(error), fallback: true, at: "start" });
      }
      // One-row reads (every HELLO's) from statements prepared once on the file, as a local store has.
      client = new FailoverReplica(createClient({ url: config.db }), primary, log, syncer, path ? new LocalRowReader(path) : null);
    } else {
      client = new FailoverReplica(createClient({ url: config.db, syncUrl: config.dbSyncUrl, authToken: config.dbAuthToken }), null, log);
    }
    await client.startSync(config.dbSyncIntervalMs ?? 1000);
    return client;
  }
  const client = createClient({ url: config.db, authToken: config.dbAuthToken });
  if (!local) return new FailoverReplica(client, null, log);
  // WAL lets the CLI read while a mesh writes; busy_timeout waits out the other writer instead of failing.
  const synchronous = config.dbSync === "full" ? "FULL" : "NORMAL";
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute(`PRAGMA synchronous = ${synchronous}`);
  await client.execute("PRAGMA busy_timeout = 5000");
  // With dbLocalWriter (the default), sends commit on a connection of their own, off the event
  // loop (relay/local-writes.ts), and read their targets from statements prepared once
  // (relay/local-reads.ts). It was off for a while because the `listen` test hung with it on;
  // that test sent before the listener had registered its device and hung the same way with it
  // off. An in-memory database exists on one connection only, so it keeps the client's.
  const path = config.dbLocalWriter ? filePath(config.db) : null;
  return path ? new LocalFileClient(client, await LocalGroupWriter.open(path, synchronous), new LocalRowReader(path)) : client;
}

/**
 * The sync worker, opened at the first sync that reaches the server: libSQL reaches the sync URL
 * when it opens a replica, and a process restarted while the store is away opens it later.
 */
class ReopeningSyncer {
  private worker: Promise<ReplicaSyncWorker> | null = null;
  constructor(private readonly options: Parameters<typeof ReplicaSyncWorker.open>[0]) {}

  async sync(): Promise<void> {
    this.worker ??= ReplicaSyncWorker.open(this.options).catch((error: unknown) => {
      this.worker = null;
      throw error;
    });
    await (await this.worker).sync();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await (await worker?.catch(() => null))?.close();
  }
}

/** The file a plain `file:` URL names; null for in-memory databases and URLs with options. */
function filePath(url: string): string | null {
  const match = /^file:(?:\/\/(?:localhost)?(?=\/))?([^?#]+)$/.exec(url);
  if (!match || match[1]!.includes(":memory:")) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

const READ_ONLY = /^\s*(SELECT|WITH|PRAGMA\s+\w+\s*$)/i;

function sqlOf(stmt: InStatement | [string, InArgs?] | string): string {
  if (typeof stmt === "string") return stmt;
  if (Array.isArray(stmt)) return stmt[0];
  return stmt.sql;
}

/** A connection failure, as opposed to an SQL error the primary would answer the same way. */
function unreachable(error: unknown): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return /ECONNREFUSED|ECONNRESET|fetch failed|Unable to connect|socket|network|timed? ?out|HRANA_WEBSOCKET|SERVER_ERROR|502|503|504/i.test(text);
}

const BUSY_RETRIES = 6;

/** The server refused the transaction for a lock held by another writer: nothing was written. */
function busy(error: unknown): boolean {
  return /SQLITE_BUSY|database is locked/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`);
}

/**
 * A networked store client. Retries transactions the server refused as busy (sqld answers
 * SQLITE_BUSY when writers queue up). As an embedded replica with a primary URL: reads are local,
 * writes go straight to the primary in one request (through the replica they would be delegated
 * statement by statement, a round trip each) and the replica then catches up at once. When the
 * replica's server stops answering, reads go to the primary too. A write that fails is not retried
 * elsewhere (it may have landed before the connection broke): the caller answers 503 and the
 * sender retries.
 */
export class FailoverReplica implements Client {
  private healthy = true;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The sync running now, and the one queued behind it for requests made while it runs. */
  private syncing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Reads wait for this: the sync that brings the latest group write (syncs never reject). */
  private readBarrier: Promise<void> | null = null;
  private writeTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly replica: Client,
    private readonly primary: Client | null,
    private readonly log: Log,
    /** Syncs the replica's file off this thread; without one, the replica client syncs itself. */
    private readonly syncer: Pick<ReplicaSyncWorker, "sync" | "close"> | null = null,
    private readonly rows: LocalRowReader | null = null,
  ) {}

  async startSync(intervalMs: number): Promise<void> {
    await this.syncNow();
    this.timer = setInterval(() => void this.syncNow(), intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * One sync at a time. A request made while one runs resolves after the next one, which starts
   * when the running one ends and serves every request made meanwhile. Each caller thus waits for
   * at most two syncs: waiting for a loop that ran while anyone asked again starved HELLOs in a
   * reconnect storm, where writes and HELLOs ask all the time.
   */
  private syncNow(): Promise<void> {
    if (!this.syncing) return (this.syncing = this.syncOnce());
    return (this.queued ??= this.syncing.then(() => {
      this.queued = null;
      return (this.syncing = this.syncOnce());
    }));
  }

  private async syncOnce(): Promise<void> {
    try {
      await (this.syncer ? this.syncer.sync() : this.replica.sync());
      if (!this.healthy) this.log("store_replica_back", {});
      this.healthy = true;
    } catch (error) {
      if (this.healthy) this.log("store_replica_unreachable", { error: String(error), fallback: this.primary !== null });
      this.healthy = false;
    } finally {
      if (!this.queued) this.syncing = null;
    }
  }

  private holdReadsUntil(synced: Promise<void>): void {
    // Syncs run in order, so waiting for the latest covers every earlier one.
    const barrier: Promise<void> = synced.then(() => {
      if (this.readBarrier === barrier) this.readBarrier = null;
    });
    this.readBarrier = barrier;
  }

  /** The group commit's transaction (core/store/group-commit.ts); see `run` for when it returns. */
  readonly writeGroup: RunBatch = (statements) => this.run(false, (c) => c.batch(statements, "write"), false);

  private target(readOnly: boolean): Client {
    if (!this.primary) return this.replica;
    return readOnly && this.healthy ? this.replica : this.primary;
  }

  /**
   * Read-your-writes in this process. A write returns once the replica has pulled it, except a
   * group commit's (`writeGroup`), which returns at the primary's commit; reads made after it wait
   * for that sync instead, so a send can signal its relays a sync earlier (5–8 ms in a cluster on
   * one machine) and every read still sees it.
   */
  private async run<T>(readOnly: boolean, call: (client: Client) => Promise<T>, awaitSync = true): Promise<T> {
    if (readOnly && this.readBarrier) await this.readBarrier;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = readOnly ? await this.runOnce(true, call) : await this.inWriteTurn(() => this.runOnce(false, call));
        if (!readOnly && this.primary) {
          const synced = this.syncNow();
          if (awaitSync) await synced;
          else this.holdReadsUntil(synced);
        }
        return result;
      } catch (error) {
        if (!busy(error) || attempt >= BUSY_RETRIES) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
      }
    }
  }

  /**
   * Writes take turns: sqld runs one write transaction at a time, and 32 concurrent ones from one
   * process made it spin on its lock (171 % CPU) and stop answering after a few hundred to a few
   * thousand writes; one at a time, 15,000 device registrations through a cluster edge finished.
   */
  private inWriteTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.writeTurn.then(write);
    this.writeTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async runOnce<T>(readOnly: boolean, call: (client: Client) => Promise<T>): Promise<T> {
    const target = this.target(readOnly);
    try {
      return await call(target);
    } catch (error) {
      if (!readOnly || !this.primary || !unreachable(error)) throw error;
      // A read whose server is gone goes to the other one: the primary while the replica's sqld
      // is away, and the local file (stale, but there) while the primary is away too.
      if (target === this.primary) return call(this.replica);
      this.healthy = false;
      this.log("store_replica_unreachable", { error: String(error), fallback: true });
      return call(this.primary);
    }
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const readOnly = READ_ONLY.test(sqlOf(stmt));
    return this.run(readOnly, (c) => (typeof stmt === "string" ? c.execute(stmt, args) : c.execute(stmt)));
  }

  batch(stmts: Array<InStatement | [string, InArgs?]>, mode?: TransactionMode): Promise<ResultSet[]> {
    const readOnly = mode === "read" || stmts.every((s) => READ_ONLY.test(sqlOf(s)));
    return this.run(readOnly, (c) => c.batch(stmts, mode));
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.run(false, (c) => c.migrate(stmts));
  }

  transaction(mode?: TransactionMode) {
    return this.target(mode === "read").transaction(mode);
  }

  executeMultiple(sql: string): Promise<void> {
    return this.run(false, (c) => c.executeMultiple(sql));
  }

  async sync() {
    await this.syncNow();
    return undefined;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.rows?.close();
    this.replica.close();
    this.primary?.close();
    void this.syncer?.close();
  }

  /**
   * One-row reads from statements kept prepared on the replica's file (store/statement.ts's
   * readRow): through the client each was prepared again, which showed as a large native share of
   * a relay's CPU in a reconnect storm. While the replica is not syncing, they go to the primary.
   */
  async readRow(statement: Statement): Promise<Record<string, unknown> | undefined> {
    if (!this.rows || (this.primary && !this.healthy)) return (await this.execute(statement)).rows[0];
    if (this.readBarrier) await this.readBarrier;
    return this.rows.readRow(statement);
  }

  reconnect(): void {
    this.replica.reconnect();
    this.primary?.reconnect();
  }

  get closed(): boolean {
    return this.replica.closed;
  }

  get protocol(): string {
    return this.replica.protocol;
  }
}
