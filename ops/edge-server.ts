// The edge's HTTP listener on Bun: plain or TLS (the relay's --tls-cert/--tls-key), telling the
// edge app, which cannot ask the runtime itself, where each request came from and whether it came
// over TLS (the operator credential's transport rule, edge/env.ts).
import type { Config } from "../core/config.ts";
import type { EdgeApp } from "../edge/app.ts";
import type { Tls } from "../relay/listeners.ts";

export function serveEdge(app: EdgeApp, config: Pick<Config, "host" | "edgePort">, tls: Tls | undefined) {
  return Bun.serve({
    hostname: config.host,
    port: config.edgePort,
    ...(tls ? { tls } : {}),
    fetch: (request, server) => app.fetch(request, { remoteAddress: server.requestIP(request)?.address ?? null, secure: tls !== undefined }),
  });
}
