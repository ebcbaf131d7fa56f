// The separate processes of a distributed mesh: a relay node, or an edge. Each opens its store
// (an embedded replica in a cluster), its engine, prints one ready line of JSON, and stops
// cleanly on SIGINT/SIGTERM.
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import { Scheduler } from "../core/schedule.ts";
import { browserBundle } from "../browser/build.ts";
import { createEdgeApp } from "../edge/app.ts";
import { openStore } from "../store/open.ts";
import { openEngine } from "../engines/open.ts";
import { type RelayNode, startRelayNode } from "../relay/relay-node.ts";
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

export async function runRelayProcess(config: Config, log: Log): Promise<void> {
  const store = await openStore(config, log);
  const engine = await openEngine(config, log);
  let node: RelayNode;
  try {
    node = await startRelayNode(config, { store, engine: engine.engine, log });
  } catch (error) {
    throw relayPortInUse(error, config, { flags: ["--ws-port", "--tcp-port"], example: "npm run pushmesh -- relay … --ws-port 0 --tcp-port 0" });
  }
  stopOnSignals(
    {
      async stop() {
        await node.stop(config.shutdownGraceMs);
        await engine.close();
        store.close();
      },
    },
    log,
  );
  print({ ready: true, role: "relay", nodeId: config.nodeId, region: config.region, ws: node.ws, tcp: node.tcp, pid: process.pid });
}

export async function runEdgeProcess(config: Config, log: Log): Promise<void> {
  const store = await openStore(config, log);
  const engine = await openEngine(config, log);
  const scheduler = new Scheduler({ store, engine: engine.engine, config, log });
  scheduler.start();
  const app = createEdgeApp({ store, engine: engine.engine, config, log, limiter: engine.limiter, scheduler, browserSdk: browserBundle });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: config.host, port: config.edgePort, fetch: app.fetch });
  } catch (error) {
    throw portInUse(error, "edge HTTP", config.host, config.edgePort, { flags: ["--edge-port"], example: "npm run pushmesh -- edge … --edge-port 0" });
  }
  stopOnSignals(
    {
      async stop() {
        await server.stop(true);
        await scheduler.stop();
        await engine.close();
        store.close();
      },
    },
    log,
  );
  const host = config.publicHost ?? config.host;
  print({ ready: true, role: "edge", region: config.region, edge: `http://${host}:${server.port}`, pid: process.pid });
}
