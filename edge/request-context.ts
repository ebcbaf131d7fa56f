// What a request carries from one middleware to the next: the caller's identity, once its key is
// resolved, and every issue of the request against its route's schemas (validation.ts).
import type { ApiKeyIdentity } from "../core/store.ts";

/** One failing field or parameter: where, and the rule it breaks in plain words. */
export type Issue = { path: string; message: string };

export type EdgeEnv = {
  /** What the host knows of the connection (ops/edge-server.ts on Bun, edge/deno.ts on Deno). */
  Bindings: { remoteAddress?: string | null; secure?: boolean };
  Variables: {
    identity: ApiKeyIdentity;
    issuesOfRequest?: () => Promise<Issue[]>;
    /** Set by forward-writes.ts: hand this send over to that edge (core/send/hand-over.ts). */
    handOverTo?: string;
  };
};
