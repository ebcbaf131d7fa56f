// The edge's HTTP listener on Bun: plain or TLS (the relay's --tls-cert/--tls-key), telling the
// edge app, which cannot ask the runtime itself, where each request came from and whether it came
// over TLS (the operator credential's transport rule, edge/env.ts). Its backlog is raised as a
// relay's is, for the moment many back ends reconnect at once.
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import type { EdgeApp } from "../edge/app.ts";
import { raiseListenBacklog } from "../relay/listen-backlog.ts";
import type { Tls } from "../relay/listeners.ts";

export function serveEdge(app: EdgeApp, config: Pick<Config, "host" | "edgePort" | "listenBacklog">, tls: Tls | undefined, log: Log) {
  const server = Bun.serve({
    hostname: config.host,
    port: config.edgePort,
    ...(tls ? { tls } : {}),
    fetch: (request, server) => app.fetch(request, { remoteAddress: server.requestIP(request)?.address ?? null, secure: tls !== undefined }),
  });
  raiseListenBacklog([server.port ?? config.edgePort], config.listenBacklog, log);
  return server;
}
