// The edge's spool, opened beside an edge when configured (config spoolPath): the file, its
// metrics, and the forwarder that drains it into the store. Sends reach it through EdgeDeps.
import { Counter, Gauge, type Registry } from "prom-client";
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import type { Log } from "../core/log.ts";
import { type ForwardResult, type HandOver, SpoolForwarder } from "../core/spool-forwarder.ts";
import { type Spool, type SpooledSend, SpoolFull } from "../core/spool.ts";
import { wayOfSend } from "../core/send/homes.ts";
import type { Store } from "../core/store.ts";
import { storeFailure } from "../store/group-commit.ts";
import { openSpoolFile } from "../spool/spool-file.ts";
import { handOverClient } from "../edge/handover-client.ts";

export type EdgeSpool = {
  /** What createEdgeApp takes. */
  deps: { spool: Spool; isStoreOutage: (error: unknown) => boolean; onSpooled: () => void; handOver?: HandOver };
  forwarder: SpoolForwarder;
  stop(): Promise<void>;
};

type ForwardDeps = { store: Store; engine: Engine; config: Config; log: Log; scheduler?: { wake(at: number): void }; fallback?: { wake(at: number): void } };

/** The spool's file under `path`, or null when this edge keeps none. */
export async function openEdgeSpool(path: string | undefined, deps: ForwardDeps, registry: Registry): Promise<EdgeSpool | null> {
  if (!path) return null;
  const { config, log } = deps;
  const file = await openSpoolFile(path, { maxEntries: config.spoolMaxEntries, maxBytes: config.spoolMaxBytes });
  const metrics = spoolMetrics(registry, file);
  const spool = counted(file, metrics);
  const isStoreOutage = storeFailure;
  // Sends kept for the edge this one forwards writes to are handed over to it (edge/routes/handover.ts).
  const handOver = config.forwardWritesTo || Object.keys(config.homeEdges).length > 0 ? handOverClient(deps) : undefined;
  // With a store per region, a kept send whose device moved home meanwhile follows it there.
  const homes = Object.keys(config.homeEdges).length > 0;
  const routing = { directory: deps.store, region: config.region, homes: [] };
  const rehome = homes ? (send: SpooledSend) => wayOfSend(routing, config.homeEdges, send.appId, send.request) : undefined;
  const forwarder = new SpoolForwarder({ ...deps, spool, isStoreOutage, onForward: metrics.forwarded, handOver, handOverMax: config.maxBatchMessages, rehome });
  forwarder.start();
  // Refusals are kept for tracking a while, then dropped; checked when the forwarder is idle or not.
  const pruning = setInterval(() => {
    file.dropRefusalsBefore(Date.now() - config.spoolKeepRefusedSeconds * 1000).catch((error: unknown) => log("spool_prune_failed", { error: String(error) }));
  }, 60_000);
  if (file.size().entries > 0) log("spool_opened", { path, ...file.size() });
  return {
    deps: { spool, isStoreOutage, onSpooled: () => forwarder.wake(), ...(handOver ? { handOver } : {}) },
    forwarder,
    async stop() {
      clearInterval(pruning);
      await forwarder.stop();
      file.close();
    },
  };
}

function spoolMetrics(registry: Registry, spool: Pick<Spool, "size">) {
  new Gauge({
    name: "pushmesh_spool_entries",
    help: "Sends this edge holds in its spool, waiting for the store",
    registers: [registry],
    collect() {
      this.set(spool.size().entries);
    },
  });
  new Gauge({
    name: "pushmesh_spool_bytes",
    help: "Bytes of the sends this edge holds in its spool (their requests as JSON)",
    registers: [registry],
    collect() {
      this.set(spool.size().bytes);
    },
  });
  new Gauge({
    name: "pushmesh_spool_oldest_age_seconds",
    help: "How long the oldest spooled send has waited; 0 when the spool is empty",
    registers: [registry],
    collect() {
      const oldest = spool.size().oldestAcceptedAt;
      this.set(oldest === null ? 0 : (Date.now() - oldest) / 1000);
    },
  });
  const appended = new Counter({ name: "pushmesh_spool_appended_total", help: "Sends this edge spooled because the store was away (or its spool held earlier ones)", registers: [registry] });
  const full = new Counter({ name: "pushmesh_spool_full_total", help: "Sends refused with 503 SPOOL_FULL: the spool was at spoolMaxEntries or spoolMaxBytes", registers: [registry] });
  const forwarded = new Counter({
    name: "pushmesh_spool_forwarded_total",
    help: "Spooled sends forwarded, by result: written, replayed (written by an earlier forward), refused (the store refused the send), handed_over (to the edge this one forwards writes to)",
    labelNames: ["result"],
    registers: [registry],
  });
  return {
    appended: () => appended.inc(),
    full: () => full.inc(),
    forwarded: (result: ForwardResult, count: number) => forwarded.inc({ result }, count),
  };
}

/** The spool with its appends counted. */
function counted(spool: Spool, metrics: { appended(): void; full(): void }): Spool {
  return Object.assign(Object.create(spool) as Spool, {
    async append(entry: Parameters<Spool["append"]>[0]) {
      try {
        await spool.append(entry);
        metrics.appended();
      } catch (error) {
        if (error instanceof SpoolFull) metrics.full();
        throw error;
      }
    },
  });
}
