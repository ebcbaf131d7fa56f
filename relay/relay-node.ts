// One relay node: its listeners, its metrics and its place in the registry, over a store and an
// engine it is given. `dev` runs one beside the edge; tests and clusters run several.
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import type { Log } from "../core/log.ts";
import { announcedIps } from "../core/ranking.ts";
import { Relay } from "../core/relay/relay.ts";
import type { Store } from "../core/store.ts";
import { startListeners, type Tls } from "./listeners.ts";
import { type PrometheusMetrics, prometheusMetrics } from "./metrics.ts";

export type RelayNode = {
  relay: Relay;
  /** ws:// or wss:// URL. */
  ws: string;
  /** host:port, or tls://host:port when the listener serves TLS. */
  tcp: string;
  wsPort: number;
  tcpPort: number;
  /** Stops within `graceMs`: drains devices to other nodes first when there are any. */
  stop(graceMs?: number): Promise<void>;
  /** The relay's Prometheus registry (what its /metrics serves). */
  metricsRegistry: PrometheusMetrics["registry"];
};

export async function readTls(config: Pick<Config, "tlsCert" | "tlsKey">): Promise<Tls | undefined> {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  return { cert: await Bun.file(config.tlsCert).text(), key: await Bun.file(config.tlsKey).text() };
}

export async function startRelayNode(config: Config, deps: { store: Store; engine: Engine; log: Log; reusePort?: boolean }): Promise<RelayNode> {
  const metrics = prometheusMetrics(config.nodeId);
  const relay = new Relay({ config, store: deps.store, engine: deps.engine, log: deps.log, metrics });
  metrics.watch(relay);
  const tls = await readTls(config);
  const listeners = startListeners(relay, config.host, { ws: config.wsPort, tcp: config.tcpPort }, tls, {
    metrics: async () => new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } }),
  }, deps.reusePort);
  const host = config.publicHost ?? config.host;
  const ws = `${tls ? "wss" : "ws"}://${host}:${listeners.wsPort}`;
  const tcp = `${tls ? "tls://" : ""}${host}:${listeners.tcpPort}`;
  await relay.start({ ws, tcp, ips: announcedIps(host, config.publicIps) });
  let stopped: Promise<void> | null = null;
  return {
    relay,
    ws,
    tcp,
    wsPort: listeners.wsPort,
    tcpPort: listeners.tcpPort,
    metricsRegistry: metrics.registry,
    stop(graceMs = 0) {
      stopped ??= (async () => {
        await relay.stop(graceMs);
        await listeners.stop();
      })();
      return stopped;
    },
  };
}
