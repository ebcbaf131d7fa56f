// The embedded replica's syncer, on a thread of its own. libSQL's sync() is a blocking native call
// that held the event loop of every relay and edge for most of its time (CPU profiles: 40–60 % of
// samples in js_sync_sync); here it blocks only this thread. It runs one request at a time.
import { type Client, createClient } from "@libsql/client";

export type SyncRequest = { id: number; kind: "open"; url: string; syncUrl: string; authToken?: string } | { id: number; kind: "sync" | "close" };
export type SyncReply = { id: number; ok: true } | { id: number; ok: false; error: string };

declare const self: Worker;
let client: Client | null = null;
let queue = Promise.resolve();

self.onmessage = (event: MessageEvent<SyncRequest>) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      if (request.kind === "open") client = createClient({ url: request.url, syncUrl: request.syncUrl, authToken: request.authToken });
      else if (request.kind === "sync") {
        if (!client) throw new Error("the replica is not open");
        await client.sync();
      } else {
        client?.close();
        client = null;
      }
      self.postMessage({ id: request.id, ok: true } satisfies SyncReply);
    } catch (error) {
      self.postMessage({ id: request.id, ok: false, error: String(error) } satisfies SyncReply);
    }
  });
};
