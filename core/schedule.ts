// The scheduler releases scheduled and held targets when they are due. Everything it needs is in
// the store (deferred_targets), so a restart loses nothing; the release batch's guard
// (released_targets) means two schedulers, in one process or many, never release a target twice.
// It never sets a timer longer than its poll interval: a years-long delay is just a row that a
// poll finds due one day. Sends in the same process wake it early.
import type { Config } from "./config.ts";
import type { Engine } from "./engine.ts";
import type { Log } from "./log.ts";
import { releaseTargets } from "./send/release.ts";
import { type DueTarget, StoreConflict, type Store } from "./store.ts";

export type SchedulerDeps = {
  store: Store;
  engine: Engine;
  log?: Log;
  config: Pick<Config, "schedulerPollMs" | "idempotencyTtlSeconds">;
  now?: () => number;
};

/** Due targets read per store query. */
const PAGE = 500;
/** Pages per run, so one run never starves the event loop; the next run goes on. */
const MAX_PAGES = 20;

export class Scheduler {
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  /** Something becomes due at `at`: make sure a run happens by then. */
  wake(at: number): void {
    if (this.stopped) return;
    this.arm(Math.max(0, at - this.now()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One run now; resolves when it is done. Returns how many targets left the waiting states. */
  async runOnce(): Promise<number> {
    let released = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const due = await this.deps.store.dueTargets(this.now(), PAGE);
      if (due.length === 0) break;
      const progressed = await this.releaseAll(due);
      released += progressed;
      if (due.length < PAGE || progressed === 0) break;
    }
    return released;
  }

  private arm(delayMs: number): void {
    const delay = Math.min(delayMs, this.deps.config.schedulerPollMs);
    const at = this.now() + delay;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.run();
    }, delay);
  }

  private run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        let released = 0;
        do {
          this.again = false;
          released = await this.runOnce();
        } while (this.again && !this.stopped);
        const next = await this.deps.store.nextDueAt();
        const now = this.now();
        // Still something due after a run: go on at once while runs make progress (a backlog),
        // otherwise wait a poll interval (a target whose release keeps failing).
        if (!this.stopped) this.arm(next === null ? Infinity : next > now ? next - now : released > 0 ? 0 : Infinity);
      } catch (error) {
        this.deps.log?.("scheduler_failed", { error: String(error) });
        if (!this.stopped) this.arm(Infinity);
      } finally {
        this.running = null;
      }
    })();
  }

  private async releaseAll(due: DueTarget[]): Promise<number> {
    const { store } = this.deps;
    const byMessage = new Map<string, DueTarget[]>();
    for (const target of due) {
      let list = byMessage.get(target.messageId);
      if (!list) byMessage.set(target.messageId, (list = []));
      list.push(target);
    }
    const stored = new Map((await store.loadMessages([...byMessage.keys()])).map((m) => [m.messageId, m]));
    let progressed = 0;
    for (const [messageId, targets] of byMessage) {
      const message = stored.get(messageId);
      if (!message) continue;
      const deviceIds = targets.map((t) => t.deviceId);
      try {
        const found = await store.loadTargets(message.appId, deviceIds);
        const known = new Set(found.map((t) => t.deviceId));
        progressed += await releaseTargets(this.deps, message, found, deviceIds.filter((d) => !known.has(d)), this.now());
      } catch (error) {
        // Lost a race to another scheduler: those targets are released already.
        if (error instanceof StoreConflict) progressed++;
        else this.deps.log?.("release_failed", { messageId, error: String(error) });
      }
    }
    return progressed;
  }
}
