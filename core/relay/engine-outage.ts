// While the engine is away no signal reaches this relay: sends are stored, but their publish fails
// or goes to a channel nobody hears. Without help a device would see such a message only at its next
// heartbeat (30 s by default). So while the engine is away, and for a little while after it is
// back, the relay looks in the store itself: every second, one read per chunk of open sessions
// returns their devices' latest seqs, and the sessions that are behind are handed the new rows.
import type { Engine } from "../engine.ts";
import type { Log } from "../log.ts";
import type { Store } from "../store.ts";
import type { Session } from "./session.ts";

/** How often the store is polled while the engine is away. */
export const OUTAGE_POLL_MS = 1000;
/** Devices per latest-seq read. */
export const OUTAGE_POLL_CHUNK = 500;
/**
 * How long polling goes on once the engine is back. Other processes' links return on their own
 * schedule (the Redis link's backoff reaches 2 s), and a send whose publish failed just before
 * this relay re-subscribed was never signalled: both are found by a poll made after the recovery.
 */
export const ENGINE_RECOVERY_MS = 5000;
/** Inbox rows handed to a session that is behind; its own pump reads any further pages. */
const CATCH_UP_ROWS = 64;

/**
 * Whether the relay should poll. Away: the engine reports its link down, or this relay's signal
 * subscription could not be made. Polling goes on for `recoveryMs` after the engine is back, and
 * after any engine call of this relay's that failed (a presence write, a kick), since an engine
 * that does not report its link shows an outage only that way.
 */
export class EngineWatch {
  private linkDown = false;
  private unsubscribed = false;
  private pollUntil = 0;

  constructor(private readonly recoveryMs = ENGINE_RECOVERY_MS) {}

  /** The engine's own report: its link to the shared server is up or down. */
  link(up: boolean, now: number): void {
    const wasAway = this.away;
    this.linkDown = !up;
    this.settle(wasAway, now);
  }

  /** This relay's subscription to its signals was made (true) or failed (false). */
  subscription(made: boolean, now: number): void {
    const wasAway = this.away;
    this.unsubscribed = !made;
    this.settle(wasAway, now);
  }

  callFailed(now: number): void {
    this.pollUntil = Math.max(this.pollUntil, now + this.recoveryMs);
  }

  get away(): boolean {
    return this.linkDown || this.unsubscribed;
  }

  shouldPoll(now: number): boolean {
    return this.away || now < this.pollUntil;
  }

  private settle(wasAway: boolean, now: number): void {
    if (wasAway && !this.away) this.callFailed(now);
  }
}

export type EngineOutageOptions = {
  store: Pick<Store, "latestSeqs" | "readInbox">;
  engine: Pick<Engine, "watchAvailability">;
  /** The sessions attached to a device on this relay. */
  sessions: () => Iterable<Session>;
  now: () => number;
  log: Log;
};

/** A relay's side of engine outages: it follows the engine's reports and runs the polls the watch asks for, one at a time. */
export class EngineOutage {
  readonly watch = new EngineWatch();
  private running = false;
  private wasPolling = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private unwatch: (() => void) | null = null;

  constructor(private readonly options: EngineOutageOptions) {}

  start(): void {
    this.unwatch = this.options.engine.watchAvailability?.((up) => this.watch.link(up, this.options.now())) ?? null;
    this.timer = setInterval(() => void this.tick(), OUTAGE_POLL_MS);
  }

  stop(): void {
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  subscription(made: boolean): void {
    this.watch.subscription(made, this.options.now());
  }

  callFailed(): void {
    this.watch.callFailed(this.options.now());
  }

  /** One timer tick: polls if the engine is away (or just back), else does nothing. */
  async tick(): Promise<void> {
    if (this.running) return;
    const polling = this.watch.shouldPoll(this.options.now());
    if (polling !== this.wasPolling) {
      this.wasPolling = polling;
      this.options.log(polling ? "store_polling_started" : "store_polling_stopped", { engineAway: this.watch.away });
    }
    if (!polling) return;
    this.running = true;
    try {
      await this.poll();
    } catch (error) {
      this.options.log("store_poll_failed", { error: String(error) });
    } finally {
      this.running = false;
    }
  }

  private async poll(): Promise<void> {
    const open = [...this.options.sessions()].filter((s) => s.state === "open");
    for (let i = 0; i < open.length; i += OUTAGE_POLL_CHUNK) {
      const chunk = open.slice(i, i + OUTAGE_POLL_CHUNK);
      const latest = await this.options.store.latestSeqs(chunk.map((s) => ({ appId: s.appId, deviceId: s.deviceId })));
      await Promise.all(chunk.map((session, j) => this.catchUp(session, latest[j] ?? null)));
    }
  }

  /** Hands a session that is behind the rows it has not heard of, as signals would have. */
  private async catchUp(session: Session, latest: number | null): Promise<void> {
    if (latest === null || latest <= session.knownLatest || session.isClosed()) return;
    const rows = await this.options.store.readInbox(session.appId, session.deviceId, session.pushedSeq, CATCH_UP_ROWS);
    if (session.isClosed()) return;
    // Past the rows handed over, the session's pump pages through the store up to `latest` itself.
    session.knownLatest = Math.max(session.knownLatest, latest);
    for (const row of rows) session.offer(row);
  }
}
