// The whole mesh in one process: store, memory engine, relay listeners and the edge HTTP API.
import { API_KEY_PREFIX, deriveKey, OPERATOR_KEY_PREFIX } from "../core/auth.ts";
import type { Config } from "../core/config.ts";
import { MemoryEngine } from "../engines/memory.ts";
import { MemoryRateLimiter } from "../engines/memory.ts";
import type { Log } from "../core/log.ts";
import type { Relay } from "../core/relay/relay.ts";
import type { FallbackWorker } from "../core/fallback.ts";
import type { WebhookWorker } from "../core/webhooks.ts";
import type { Purger } from "../core/retention.ts";
import type { Scheduler } from "../core/schedule.ts";
import { startBackground } from "./background.ts";
import { openEdgeSpool } from "./edge-spool.ts";
import type { Store } from "../core/store.ts";
import { browserBundle } from "../browser/build.ts";
import { dashboardAsset } from "./dashboard-assets.ts";
import { createEdgeApp } from "../edge/app.ts";
import { openStore } from "../store/open.ts";
import { type RelayNode, readTls, startRelayNode } from "../relay/relay-node.ts";
import { prometheusEdgeMetrics } from "./edge-metrics.ts";
import { serveEdge } from "./edge-server.ts";
import { DEV_PORTS, portInUse, relayPortInUse } from "./port-in-use.ts";

export type Mesh = {
  edge: string;
  ws: string;
  tcp: string;
  store: Store;
  relay: Relay;
  engine: MemoryEngine;
  /** Releases scheduled and held messages when due. */
  scheduler: Scheduler;
  purger: Purger;
  fallback: FallbackWorker;
  webhooks: WebhookWorker;
  /** What the fleet routes take: the configured one, or the key derived from this store's own secret. */
  operatorKey: string;
  /** Stops; with `graceMs`, drains the relay's devices to other nodes first. */
  stop(graceMs?: number): Promise<void>;
};

export async function startMesh(config: Config, log: Log): Promise<Mesh> {
  const metrics = prometheusEdgeMetrics({ region: config.region, processMetrics: false });
  const store = await openStore(config, undefined, { onGroupCommit: metrics.groupCommitted });
  metrics.watchStore(store);
  const engine = new MemoryEngine();
  let node: RelayNode;
  try {
    node = await startRelayNode(config, { store, engine, log });
  } catch (error) {
    await engine.close();
    store.close();
    throw relayPortInUse(error, config, DEV_PORTS);
  }
  const { relay, ws, tcp } = node;
  // One process: the edge's /metrics shows the relay's too.
  metrics.alsoScrape(node.metricsRegistry);
  const host = config.publicHost ?? config.host;

  const limiter = new MemoryRateLimiter();
  const background = startBackground({ store, engine, config, log, metrics });
  const { scheduler } = background;
  const operatorKey = config.operatorKeys[0] ?? (await devOperatorKey(store));
  const edgeConfig = { ...config, operatorKeys: config.operatorKeys.length > 0 ? config.operatorKeys : [operatorKey] };
  const spool = await openEdgeSpool(config.spoolPath, { store, engine, config, log, scheduler, fallback: background.fallback }, metrics.registry);
  const app = createEdgeApp({ store, engine, config: edgeConfig, log, limiter, scheduler, fallback: background.fallback, metrics, browserSdk: browserBundle, dashboardAsset, ...spool?.deps });
  const tls = await readTls(config);
  let edgeServer: ReturnType<typeof serveEdge>;
  try {
    edgeServer = serveEdge(app, config, tls, log);
  } catch (error) {
    // The relay runs by now (listeners, report timers): stop it, so a caller that goes on is not left with it.
    await node.stop();
    await spool?.stop();
    await background.stop();
    await limiter.close();
    await engine.close();
    store.close();
    throw portInUse(error, "edge HTTP", config.host, config.edgePort, DEV_PORTS);
  }
  const edge = `${tls ? "https" : "http"}://${host}:${edgeServer.port}`;

  let stopped: Promise<void> | null = null;
  return {
    edge,
    ws,
    tcp,
    store,
    relay,
    engine,
    scheduler,
    purger: background.purger,
    fallback: background.fallback,
    webhooks: background.webhooks,
    operatorKey,
    stop(graceMs = 0) {
      stopped ??= (async () => {
        await node.stop(graceMs);
        await edgeServer.stop(true);
        await spool?.stop();
        await background.stop();
        await limiter.close();
        await engine.close();
        store.close();
      })();
      return stopped;
    },
  };
}

/**
 * The demo app `dev` prints. Its key is derived from the app's own secret, so every start prints the
 * same working key while the store keeps only its hash.
 */
export async function ensureDemoApp(store: Store): Promise<{ appId: string; apiKey: string }> {
  const existing = (await store.listApps()).find((a) => a.name === "demo");
  const app = existing ?? (await store.findApp((await store.createApp("demo")).appId));
  if (!app) throw new Error("demo app could not be created");
  const apiKey = await deriveKey(API_KEY_PREFIX, app.tokenSecret, "pushmesh demo api key");
  await store.insertApiKey(app.id, apiKey, "demo", ["send", "read", "admin"]);
  return { appId: app.id, apiKey };
}

/**
 * The one-process mesh's operator key when none is configured: derived from a secret of the
 * store's own (no app's), so every start prints the same working key and nothing stores the key.
 */
export async function devOperatorKey(store: Store): Promise<string> {
  return deriveKey(OPERATOR_KEY_PREFIX, await store.meshSecret("operator"), "pushmesh operator key");
}
