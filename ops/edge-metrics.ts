// Prometheus metrics for an edge process (edge/metrics.ts's interface), named as the relay's are
// (relay/metrics.ts): requests by route and status with their latency, the store's group commits,
// engine errors, the scheduler's waiting targets and the purge's rows. In `dev` the relay's registry joins the
// scrape, so one /metrics shows the whole process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Engine } from "../core/engine.ts";
import type { PurgeObserver, Purger } from "../core/retention.ts";
import type { FallbackObserver } from "../core/fallback.ts";
import type { Store } from "../core/store.ts";
import type { EdgeMetrics } from "../edge/metrics.ts";

export type EdgeProcessMetrics = EdgeMetrics & {
  registry: Registry;
  /** For the store: each committed group's size and time. */
  groupCommitted(writes: number, seconds: number): void;
  /** The engine, with every failed call counted by operation. */
  watchEngine(engine: Engine): Engine;
  /** Reads the scheduler's waiting targets from `store` when scraped. */
  watchStore(store: Pick<Store, "waitingTargets" | "waitingFallbacks" | "waitingWebhookEvents">): void;
  /** For the fallback worker: each channel attempt's result and the provider's time. */
  channelAttempt: FallbackObserver;
  /** For the webhook worker: each delivery's result. */
  webhookDelivery: (result: "delivered" | "retrying" | "failed") => void;
  /** For the purger: each step's rows deleted and time. */
  purged: PurgeObserver;
  /** Reads when the purger last finished a pass, when scraped. */
  watchPurger(purger: Pick<Purger, "lastPassAt">): void;
  /** Another registry of this process (the relay's, in `dev`) joins the edge's /metrics. */
  alsoScrape(other: Registry): void;
};

export function prometheusEdgeMetrics(options: { region: string; processMetrics: boolean }): EdgeProcessMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ region: options.region });
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "pushmesh_edge_process_" });
  const requests = new Counter({ name: "pushmesh_http_requests_total", help: "Edge requests by route template, method and status", labelNames: ["route", "method", "status"], registers: [registry] });
  const latency = new Histogram({
    name: "pushmesh_http_request_duration_seconds",
    help: "Edge request latency by route template and method",
    labelNames: ["route", "method"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commits = new Histogram({
    name: "pushmesh_store_write_seconds",
    help: "One group commit of the send path's writes: its transaction's time",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const groupSize = new Histogram({
    name: "pushmesh_store_group_commit_writes",
    help: "Messages written by one group commit",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [registry],
  });
  const engineErrors = new Counter({ name: "pushmesh_engine_errors_total", help: "Engine calls that failed, by operation", labelNames: ["op"], registers: [registry] });
  let waiting: Pick<Store, "waitingTargets" | "waitingFallbacks" | "waitingWebhookEvents"> | null = null;
  new Gauge({
    name: "pushmesh_scheduler_waiting_targets",
    help: "Targets waiting for their time (scheduled) or for quiet hours to end (held)",
    registers: [registry],
    async collect() {
      if (waiting) this.set(await waiting.waitingTargets().catch(() => Number.NaN));
    },
  });
  const purgedRows = new Counter({ name: "pushmesh_purged_rows_total", help: "Rows past their retention purged, by kind", labelNames: ["kind"], registers: [registry] });
  const purgeSteps = new Histogram({
    name: "pushmesh_purge_step_seconds",
    help: "One bounded purge step (a window of purgeBatchRows rows of one table): its time",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const attempts = new Counter({ name: "pushmesh_channel_attempts_total", help: "Last-mile deliveries tried, by channel and the provider's answer", labelNames: ["channel", "result"], registers: [registry] });
  const providerTime = new Histogram({
    name: "pushmesh_channel_provider_seconds",
    help: "A provider's time to answer one last-mile delivery, by channel",
    labelNames: ["channel"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: "pushmesh_fallback_waiting",
    help: "Last-mile fallbacks waiting: for their `after` to pass, or for a retry",
    registers: [registry],
    async collect() {
      if (waiting) this.set(await waiting.waitingFallbacks().catch(() => Number.NaN));
    },
  });
  const webhookDeliveries = new Counter({ name: "pushmesh_webhook_deliveries_total", help: "Webhook deliveries tried, by result: delivered, retrying, failed (a day of retries passed)", labelNames: ["result"], registers: [registry] });
  new Gauge({
    name: "pushmesh_webhook_waiting",
    help: "Webhook deliveries waiting in the queue: new, or for a retry",
    registers: [registry],
    async collect() {
      if (waiting) this.set(await waiting.waitingWebhookEvents().catch(() => Number.NaN));
    },
  });
  let purger: Pick<Purger, "lastPassAt"> | null = null;
  new Gauge({
    name: "pushmesh_purge_last_pass_timestamp_seconds",
    help: "When the purge last went through every table (0: not yet)",
    registers: [registry],
    collect() {
      this.set(purger ? purger.lastPassAt / 1000 : 0);
    },
  });
  let others: Registry[] = [];
  return {
    registry,
    request(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
    // Merged at each scrape: metrics registered after alsoScrape (the spool's) are in it too.
    scrape: async () => {
      const scraped = others.length === 0 ? registry : Registry.merge([registry, ...others]);
      return { contentType: scraped.contentType, text: await scraped.metrics() };
    },
    groupCommitted(writes, seconds) {
      groupSize.observe(writes);
      commits.observe(seconds);
    },
    watchEngine(engine) {
      return countingErrors(engine, (op) => engineErrors.inc({ op }));
    },
    watchStore(store) {
      waiting = store;
    },
    channelAttempt(channel, result, seconds) {
      attempts.inc({ channel, result });
      providerTime.observe({ channel }, seconds);
    },
    webhookDelivery(result) {
      webhookDeliveries.inc({ result });
    },
    purged(kind, deleted, seconds) {
      if (deleted > 0) purgedRows.inc({ kind }, deleted);
      purgeSteps.observe(seconds);
    },
    watchPurger(p) {
      purger = p;
    },
    alsoScrape(other) {
      others = [...others, other];
    },
  };
}

/** The engine with each failed call counted, then rethrown as it was. */
function countingErrors(engine: Engine, failed: (op: string) => void): Engine {
  const watched = (op: keyof Engine) =>
    ((...args: unknown[]) =>
      (engine[op] as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: unknown) => {
        failed(op);
        throw error;
      })) as never;
  return {
    ...engine,
    setPresence: watched("setPresence"),
    clearPresence: watched("clearPresence"),
    getPresence: watched("getPresence"),
    publish: watched("publish"),
    signalHolders: watched("signalHolders"),
    broadcast: watched("broadcast"),
    subscribe: engine.subscribe.bind(engine),
    onTopic: engine.onTopic.bind(engine),
    close: engine.close.bind(engine),
    ...(engine.watchAvailability ? { watchAvailability: engine.watchAvailability.bind(engine) } : {}),
  };
}
