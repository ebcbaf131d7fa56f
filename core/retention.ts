// Data lifecycle: rows past their retention are purged in the background, in bounded steps (each
// looks at `purgeBatchRows` rows of one table) with a pause between steps, so sends never wait on a
// long delete. Undelivered messages within their TTL are never purged: the store's statements
// keep every pending inbox row until its message expired, and every topic entry a subscriber still
// waits for until it expired. Idempotent: two purgers (two edges) only share the work.
import type { Config } from "./config.ts";
import type { Log } from "./log.ts";

/** An app's own retention; null fields follow the mesh's defaults. */
export type AppRetention = { settledSeconds: number | null; topicSeconds: number | null; topicMaxEntries: number | null };
export type RetentionDefaults = {
  settledSeconds: number;
  topicSeconds: number;
  topicMaxEntries: number;
  idempotencySeconds: number;
  frequencySeconds: number;
};

/** In the order a pass runs them: what points at messages goes before the messages. */
export const PURGE_KINDS = ["inbox", "waiting", "released", "topic_entries", "messages", "idempotency", "frequency"] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];
/**
 * `through`: the highest rowid this pass looks at, null on a pass's first step (the store answers
 * the table's highest then). Rows written after a pass began wait for the next pass: otherwise a
 * pass would chase the rows that steady sends append and never end.
 */
export type PurgeStep = { kind: PurgeKind; cursor: number; through: number | null; limit: number; now: number; defaults: RetentionDefaults };
export type PurgeStepResult = { deleted: number; next: number | null; through: number };

export interface RetentionStore {
  appRetention(appId: string): Promise<AppRetention>;
  setAppRetention(appId: string, retention: AppRetention, now?: number): Promise<void>;
  /** Deletes what is past retention among `limit` rows after `cursor`, up to `through`; `next` null at the end. */
  purgeStep(step: PurgeStep): Promise<PurgeStepResult>;
}

const PAUSE_PER_STEP = 4;

/** The longest frequency-cap window the API accepts, plus a day: older slots can count for nothing. */
const FREQUENCY_KEEP_SECONDS = 31 * 24 * 3600;

export function retentionDefaults(config: RetentionConfig): RetentionDefaults {
  return {
    settledSeconds: config.retentionSettledSeconds,
    topicSeconds: config.retentionTopicSeconds,
    topicMaxEntries: config.retentionTopicMaxEntries,
    idempotencySeconds: config.idempotencyTtlSeconds,
    frequencySeconds: FREQUENCY_KEEP_SECONDS,
  };
}

type RetentionConfig = Pick<
  Config,
  "retentionSettledSeconds" | "retentionTopicSeconds" | "retentionTopicMaxEntries" | "idempotencyTtlSeconds" | "purgeIntervalSeconds" | "purgeBatchRows"
>;

export type PurgeObserver = (kind: PurgeKind, deleted: number, seconds: number) => void;

export type PurgerDeps = {
  store: RetentionStore;
  config: RetentionConfig;
  log?: Log;
  onStep?: PurgeObserver;
  now?: () => number;
  /** The least pause between steps, so queued writes go first; default 5 ms. */
  pauseMs?: number;
  sleep?: (ms: number) => Promise<void>;
};

export class Purger {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<Record<PurgeKind, number>> | null = null;
  /** Set by stop(): a pass under way ends after its current step. */
  private halted = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When the last complete pass ended (ms), for metrics; 0: none yet. */
  lastPassAt = 0;

  constructor(private readonly deps: PurgerDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  start(): void {
    this.halted = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One whole pass over every kind; resolves with the rows deleted per kind. A pass already under way is joined. */
  runOnce(): Promise<Record<PurgeKind, number>> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private arm(): void {
    if (this.halted) return;
    this.timer = setTimeout(async () => {
      try {
        await this.runOnce();
      } catch (error) {
        this.deps.log?.("purge_failed", { error: String(error) });
      }
      this.arm();
    }, this.deps.config.purgeIntervalSeconds * 1000);
  }

  private async pass(): Promise<Record<PurgeKind, number>> {
    const defaults = retentionDefaults(this.deps.config);
    const limit = this.deps.config.purgeBatchRows;
    const deleted = Object.fromEntries(PURGE_KINDS.map((k) => [k, 0])) as Record<PurgeKind, number>;
    for (const kind of PURGE_KINDS) {
      let cursor: number | null = 0;
      let through: number | null = null;
      while (cursor !== null && !this.halted) {
        const started = performance.now();
        const step: PurgeStepResult = await this.deps.store.purgeStep({ kind, cursor, through, limit, now: this.now(), defaults });
        through = step.through;
        deleted[kind] += step.deleted;
        this.deps.onStep?.(kind, step.deleted, (performance.now() - started) / 1000);
        cursor = step.next;
        // A local store runs statements on this thread: pausing several times a step's length keeps
        // the purge to a fifth of the time, whatever the machine's speed.
        const took = performance.now() - started;
        if (cursor !== null) await this.sleep(Math.max(this.deps.pauseMs ?? 5, took * PAUSE_PER_STEP));
      }
    }
    if (!this.halted) this.lastPassAt = this.now();
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (total > 0) this.deps.log?.("purged", deleted);
    return deleted;
  }
}
