// An embedded replica whose syncs run on a worker thread (relay/replica-sync-worker.ts), so the
// process's event loop keeps serving devices and requests while frames are pulled. The process
// reads the same file through a plain libSQL connection: SQLite's WAL makes each committed sync
// visible to it at its next read.
import type { SyncReply, SyncRequest } from "./replica-sync-worker.ts";

type Pending = { resolve(): void; reject(error: Error): void };

export class ReplicaSyncWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<SyncReply>) => {
      const reply = event.data;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    };
    worker.onerror = (event) => {
      const error = new Error(`replica sync worker failed: ${event.message}`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    // The worker must not keep a process alive that is otherwise done.
    (worker as { unref?: () => void }).unref?.();
  }

  /** Starts the worker and opens the replica there; the caller syncs before its first read. */
  static async open(options: { url: string; syncUrl: string; authToken?: string }): Promise<ReplicaSyncWorker> {
    const syncer = new ReplicaSyncWorker(new Worker(new URL("./replica-sync-worker.ts", import.meta.url).href));
    try {
      await syncer.request({ kind: "open", ...options });
    } catch (error) {
      // libSQL reaches the sync URL when it opens a replica: a server that is away fails here.
      await syncer.close();
      throw error;
    }
    return syncer;
  }

  sync(): Promise<void> {
    return this.request({ kind: "sync" });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.request({ kind: "close" }, true).catch(() => undefined);
    this.worker.terminate();
  }

  private request(body: { kind: "open"; url: string; syncUrl: string; authToken?: string } | { kind: "sync" | "close" }, closing = false): Promise<void> {
    if (this.closed && !closing) return Promise.reject(new Error("the replica is closed"));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...body } as SyncRequest);
    });
  }
}
