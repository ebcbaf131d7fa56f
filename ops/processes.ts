// The separate processes of a distributed mesh: a relay node, or an edge. Each opens its store
// (an embedded replica in a cluster), its engine, prints one ready line of JSON, and stops
// cleanly on SIGINT/SIGTERM.
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import { startBackground } from "./background.ts";
import { browserBundle } from "../browser/build.ts";
import { dashboardAsset } from "./dashboard-assets.ts";
import { createEdgeApp } from "../edge/app.ts";
import { openProcessStore } from "../store/open.ts";
import { openEngine } from "../engines/open.ts";
import { type RelayNode, readTls, startRelayNode } from "../relay/relay-node.ts";
import { prometheusEdgeMetrics } from "./edge-metrics.ts";
import { serveEdge } from "./edge-server.ts";
import { openEdgeSpool } from "./edge-spool.ts";
import { portInUse, relayPortInUse } from "./port-in-use.ts";

type Stoppable = { stop(): Promise<void> };

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function stopOnSignals(target: Stoppable, log: Log): void {
  const shutdown = (signal: string) => {
    log("shutdown", { signal });
    target.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

/** `worker`: one worker of a relay host (ops/relay-host.ts): it shares the host's ports and stops when the host is gone. */
/**
 * A worker's stdin is a pipe from its host: it ends when the host exits, even by SIGKILL, and the
 * worker then drains and stops rather than hold devices no one supervises.
 */
function stopWhenParentGone(target: Stoppable, log: Log): void {
  void (async () => {
    const reader = Bun.stdin.stream().getReader();
    while (!(await reader.read()).done);
    log("shutdown", { signal: "host_gone" });
    await target.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  })();
}

export async function runRelayProcess(config: Config, log: Log, options: { worker?: boolean } = {}): Promise<void> {
  const store = await openProcessStore(config, log);
  const engine = await openEngine(config, log);
  let node: RelayNode;
  try {
    node = await startRelayNode(config, { store, engine: engine.engine, log, reusePort: options.worker });
  } catch (error) {
    throw relayPortInUse(error, config, { flags: ["--ws-port", "--tcp-port"], example: "npm run pushmesh -- relay … --ws-port 0 --tcp-port 0" });
  }
  const target: Stoppable = {
    async stop() {
      await node.stop(config.shutdownGraceMs);
      await engine.close();
      store.close();
    },
  };
  stopOnSignals(target, log);
  if (options.worker) stopWhenParentGone(target, log);
  const ports = options.worker ? { wsPort: node.wsPort, tcpPort: node.tcpPort } : {};
  print({ ready: true, role: options.worker ? "relay-worker" : "relay", nodeId: config.nodeId, region: config.region, ws: node.ws, tcp: node.tcp, ...ports, pid: process.pid });
}

export async function runEdgeProcess(config: Config, log: Log): Promise<void> {
  const metrics = prometheusEdgeMetrics({ region: config.region, processMetrics: true });
  const store = await openProcessStore(config, log, { onGroupCommit: metrics.groupCommitted });
  metrics.watchStore(store);
  const engine = await openEngine(config, log);
  const watched = metrics.watchEngine(engine.engine);
  const background = startBackground({ store, engine: watched, config, log, metrics });
  const { scheduler } = background;
  const spool = await openEdgeSpool(config.spoolPath ?? spoolBesideReplica(config.db), { store, engine: watched, config, log, scheduler, fallback: background.fallback }, metrics.registry);
  const app = createEdgeApp({ store, engine: watched, config, log, limiter: engine.limiter, scheduler, fallback: background.fallback, metrics, browserSdk: browserBundle, dashboardAsset, ...spool?.deps });
  const tls = await readTls(config);
  let server: ReturnType<typeof serveEdge>;
  try {
    server = serveEdge(app, config, tls, log);
  } catch (error) {
    throw portInUse(error, "edge HTTP", config.host, config.edgePort, { flags: ["--edge-port"], example: "npm run pushmesh -- edge … --edge-port 0" });
  }
  stopOnSignals(
    {
      async stop() {
        await server.stop(true);
        await spool?.stop();
        await background.stop();
        await engine.close();
        store.close();
      },
    },
    log,
  );
  const host = config.publicHost ?? config.host;
  print({ ready: true, role: "edge", region: config.region, edge: `${tls ? "https" : "http"}://${host}:${server.port}`, pid: process.pid });
}

/** An edge over an embedded replica keeps its spool beside the replica's file; one over a remote store, none unless told. */
function spoolBesideReplica(db: string): string | undefined {
  const match = /^file:(?:\/\/(?:localhost)?(?=\/))?([^?#]+)$/.exec(db);
  return match ? `${decodeURIComponent(match[1]!)}.spool` : undefined;
}
