// The edge's background work, started beside it in every process that serves the edge: the
// scheduler (releases scheduled and held targets) and the purger (retention).
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import type { Log } from "../core/log.ts";
import { Purger } from "../core/retention.ts";
import { Scheduler } from "../core/schedule.ts";
import type { Store } from "../core/store.ts";
import type { EdgeProcessMetrics } from "./edge-metrics.ts";

export type Background = { scheduler: Scheduler; purger: Purger; stop(): Promise<void> };

export function startBackground(deps: { store: Store; engine: Engine; config: Config; log: Log; metrics: EdgeProcessMetrics }): Background {
  const { store, engine, config, log, metrics } = deps;
  const scheduler = new Scheduler({ store, engine, config, log });
  const purger = new Purger({ store, config, log, onStep: metrics.purged });
  metrics.watchPurger(purger);
  scheduler.start();
  purger.start();
  return {
    scheduler,
    purger,
    async stop() {
      await Promise.all([scheduler.stop(), purger.stop()]);
    },
  };
}
