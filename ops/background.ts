// The edge's background work, started beside it in every process that serves the edge: the
// scheduler (releases scheduled and held targets), the purger (retention), the fallback worker
// (the last mile) and the webhook worker.
import { adapterSource } from "../channels/registry.ts";
import { channelFactories } from "../channels/factories.ts";
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import { FallbackWorker } from "../core/fallback.ts";
import { WebhookWorker } from "../core/webhooks.ts";
import type { Log } from "../core/log.ts";
import { Purger } from "../core/retention.ts";
import { Scheduler } from "../core/schedule.ts";
import { meshSealer } from "../core/sealing.ts";
import type { Store } from "../core/store.ts";
import type { EdgeProcessMetrics } from "./edge-metrics.ts";

export type Background = { scheduler: Scheduler; purger: Purger; fallback: FallbackWorker; webhooks: WebhookWorker; stop(): Promise<void> };

export function startBackground(deps: { store: Store; engine: Engine; config: Config; log: Log; metrics: EdgeProcessMetrics }): Background {
  const { store, engine, config, log, metrics } = deps;
  const scheduler = new Scheduler({ store, engine, config, log });
  const purger = new Purger({ store, config, log, onStep: metrics.purged });
  const adapters = adapterSource(store, () => meshSealer(store, config.credentialsKey), channelFactories(config));
  const fallback = new FallbackWorker({ store, adapters, log, onAttempt: metrics.channelAttempt, pollMs: config.fallbackPollMs, retryBaseMs: config.fallbackRetryBaseMs });
  const webhooks = new WebhookWorker({
    store,
    sealer: () => meshSealer(store, config.credentialsKey),
    fetch: (url, init) => fetch(url, init),
    log,
    onDelivery: metrics.webhookDelivery,
    pollMs: config.webhookPollMs,
    timeoutMs: config.providerTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
  });
  metrics.watchPurger(purger);
  scheduler.start();
  purger.start();
  fallback.start();
  webhooks.start();
  return {
    scheduler,
    purger,
    fallback,
    webhooks,
    async stop() {
      await Promise.all([scheduler.stop(), purger.stop(), fallback.stop(), webhooks.stop()]);
      await adapters.close();
    },
  };
}
