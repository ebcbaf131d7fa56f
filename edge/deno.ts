// The edge on Deno: the same Hono app the `dev` process serves on Bun, over a libSQL store this
// process opens itself. Any fetch-style worker runtime hosts it the same way: build the deps,
// call createEdgeApp, hand `app.fetch` to the runtime's server.
//
//   PUSHMESH_CONFIG='{"db":"file:pushmesh.db","edgePort":7710}' deno run -A edge/deno.ts
//
// PUSHMESH_CONFIG takes any key of core/config.ts as JSON. The store must already be migrated
// (`pushmesh migrate`, or any `dev` start). This process has its own in-memory engine, so it
// cannot signal relays in other processes: relays pick its messages up from the store at the
// device's next heartbeat, until a shared engine (Redis) joins the processes. Scheduled and held
// messages are released by the scheduler in the relay process. Prints one JSON line when ready.
import { createClient } from "@libsql/client";
import { parseConfig } from "../core/config.ts";
import { MemoryEngine } from "../engines/memory.ts";
import { MemoryRateLimiter } from "../engines/memory.ts";
import { LibsqlStore } from "../store/libsql-store.ts";
import { createEdgeApp } from "./app.ts";

/** The little of Deno's API this file uses; declared here so the edge needs no Deno types. */
declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
};

const config = parseConfig(JSON.parse(Deno.env.get("PUSHMESH_CONFIG") ?? "{}") as Record<string, unknown>);
const client = createClient({ url: config.db, authToken: config.dbAuthToken });
if (config.db.startsWith("file:")) await client.execute("PRAGMA busy_timeout = 5000");
const store = new LibsqlStore(client);
const engine = new MemoryEngine();
const limiter = new MemoryRateLimiter();
const log = (event: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ event, ...fields }));
const app = createEdgeApp({ store, engine, config, log, limiter });

const server = Deno.serve({ hostname: config.host, port: config.edgePort, onListen: () => {} }, (request, info) =>
  app.fetch(request, { remoteAddress: info.remoteAddr.hostname, secure: false }),
);
console.log(JSON.stringify({ ready: true, runtime: "deno", edge: `http://${config.host}:${server.addr.port}` }));

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => {
    void server.shutdown().finally(() => {
      client.close();
      Deno.exit(0);
    });
  });
}
