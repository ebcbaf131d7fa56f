// Group commit: the durable writes of concurrent sends share one transaction. A write joins the
// queue; the queue is written as one group once the current event-loop turn is over (every request
// that arrived in that turn has queued its write by then), or, while a group is being written (a
// networked store), as soon as that group is done. With dbSync full every commit is an fsync
// (~0.5 ms on the benchmark machine), so one commit per message capped a process at ~1,200 sends/s.
//
// A group that fails is written again one write at a time, in order, so a bad write (an
// idempotency key that lost its race, a target released twice, an unknown device) fails only
// itself and its caller sees its own error. Nothing of the failed group was written: it was one
// transaction. A failure of the store itself (busy, unreachable, closed) fails the whole group at
// once: no write caused it, and retrying each alone would multiply the client's own retries.
import type { Statement } from "./statement.ts";

type Results = { rows: ArrayLike<Record<string, unknown>> }[];

/** Runs statements as one transaction. A statement that returns rows returns one (group writers read only the first). */
export type RunBatch = (statements: Statement[]) => Promise<Results>;

/**
 * A client that runs groups its own way: relay/local-writes.ts, for a local file, commits off the
 * event loop. The store uses `writeGroup` when its client has one, else `client.batch(…, "write")`.
 */
export type GroupWriter = { writeGroup: RunBatch };

export function isGroupWriter(client: object): client is GroupWriter {
  return typeof (client as Partial<GroupWriter>).writeGroup === "function";
}

/** The statements of a group of writes, and how to read each write's result from theirs. */
export type BuildGroup<W, R> = (writes: W[]) => { statements: Statement[]; read(results: Results): R[] };

type Queued<W, R> = { write: W; resolve(result: R): void; reject(error: unknown): void };

/** The store could not run any transaction: locked past the client's retries, unreachable, or closed. */
export function storeFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/SQLITE_BUSY|database is locked|ECONNREFUSED|ECONNRESET|fetch failed|Unable to connect|timed? ?out|HRANA_WEBSOCKET|SERVER_ERROR|client is closed|CLIENT_CLOSED/i.test(`${e.message} ${(e as { code?: unknown }).code ?? ""}`)) {
      return true;
    }
  }
  return false;
}

/** After the current event-loop turn: setImmediate where the runtime has it (Bun, Node), else a zero timeout. */
const afterThisTurn: (run: () => void) => void =
  typeof globalThis.setImmediate === "function" ? (run) => void globalThis.setImmediate(run) : (run) => void setTimeout(run, 0);

export class GroupCommit<W, R> {
  private queue: Queued<W, R>[] = [];
  private writing = false;
  private scheduled = false;

  constructor(
    private readonly run: RunBatch,
    private readonly build: BuildGroup<W, R>,
    /** The most writes one transaction takes; the rest go in the next. */
    private readonly maxWrites = 1000,
    /** Told of every committed group: how many writes it held and how long its transaction took. */
    private readonly observe?: (writes: number, seconds: number) => void,
  ) {}

  /**
   * Queues the write behind every write queued before it and resolves once its transaction has
   * committed. Writes queued in one synchronous stretch share a transaction, in call order.
   */
  write(write: W): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (this.writing || this.scheduled) return;
      this.scheduled = true;
      afterThisTurn(() => {
        this.scheduled = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.maxWrites));
    } finally {
      this.writing = false;
    }
  }

  private async commit(group: Queued<W, R>[]): Promise<void> {
    let plan: ReturnType<BuildGroup<W, R>>;
    let results: Results;
    try {
      plan = this.build(group.map((q) => q.write));
      const started = performance.now();
      results = plan.statements.length === 0 ? [] : await this.run(plan.statements);
      this.observe?.(group.length, (performance.now() - started) / 1000);
    } catch (error) {
      if (group.length === 1 || storeFailure(error)) {
        for (const q of group) q.reject(error);
        return;
      }
      for (const one of group) await this.commit([one]);
      return;
    }
    // Committed: from here on a failure is reported, never written again.
    let out: R[];
    try {
      out = plan.read(results);
    } catch (error) {
      for (const q of group) q.reject(error);
      return;
    }
    group.forEach((q, n) => q.resolve(out[n]!));
  }
}
