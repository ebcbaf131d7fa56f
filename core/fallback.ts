// The fallback worker: a target whose socket has not acked its message `after` the send (or whose
// device had no socket) is delivered through the message's channels, in order, until one accepts.
// Everything it needs is in the store (fallback_jobs, written with the message), so a restart
// loses nothing. It runs apart from the relays: a slow or failing provider never delays a socket.
import type { ChannelAdapter, ChannelEndpoint, ChannelKind, ChannelMessage, ChannelOutcome } from "./channels.ts";
import { decodeValue } from "./codec.ts";
import type { ChannelDelivery, ChannelDeliveryState, DueFallback, FallbackEnd, FallbackJob } from "./last-mile-store.ts";
import { isLapsed } from "./lifecycle.ts";
import type { Log } from "./log.ts";
import { PRIORITY_NAMES } from "./protocol.ts";
import type { NewMessage, Store } from "./store.ts";

/** The adapter for an app's channel, from its credentials; null when the app has not configured it. */
export type AdapterSource = (appId: string, kind: ChannelKind) => Promise<ChannelAdapter | null>;
export type FallbackObserver = (kind: ChannelKind, state: ChannelDeliveryState, seconds: number) => void;

export type FallbackDeps = {
  store: Store;
  adapters: AdapterSource;
  log?: Log;
  onAttempt?: FallbackObserver;
  now?: () => number;
  /** How often the worker looks for due jobs; sends in this process wake it early. */
  pollMs?: number;
  /** Jobs handled at once. */
  concurrency?: number;
  /** The first retry's wait; it doubles to an hour. */
  retryBaseMs?: number;
};

/** Retries back off from retryBaseMs (5 s) doubling to an hour, or as the provider's Retry-After says; a job gives up after a day. */
const RETRY_CAP_MS = 3_600_000;
const GIVE_UP_MS = 24 * 3_600_000;
const PAGE = 200;

export class FallbackWorker {
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private halted = false;
  private started = false;

  constructor(private readonly deps: FallbackDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.started = true;
    this.halted = false;
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Something becomes due at `at`. */
  wake(at: number): void {
    if (this.started && !this.halted) this.arm(Math.max(0, at - this.now()));
  }

  /** Handles every job due now; resolves when done. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const due = await this.deps.store.dueFallbacks(this.now(), PAGE);
      const endpoints = await this.deps.store.endpointsForDevices(due.map((j) => ({ appId: j.appId, deviceId: j.deviceId })));
      // A page's ends are written together, one commit for the page. A crash before it re-sends the
      // page's messages: a duplicate push the SDK drops by seq, never a lost one.
      const ends: FallbackEnd[] = [];
      const limit = this.deps.concurrency ?? 32;
      for (let i = 0; i < due.length; i += limit) await Promise.all(due.slice(i, i + limit).map((job, n) => this.handle(job, endpoints[i + n]!, ends)));
      await this.deps.store.finishFallbacks(ends);
      handled += due.length;
      if (due.length < PAGE || this.halted) return handled;
    }
  }

  private arm(delayMs: number): void {
    const delay = Math.min(delayMs, this.deps.pollMs ?? 250);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, delay);
  }

  private run(): void {
    if (this.halted || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.runOnce();
        } while (this.again && !this.halted);
      } catch (error) {
        this.deps.log?.("fallback_failed", { error: String(error) });
      } finally {
        this.running = null;
        if (!this.halted) this.arm(Infinity);
      }
    })();
  }

  private async handle(job: DueFallback, endpoints: ChannelEndpoint[], ends: FallbackEnd[]): Promise<void> {
    const { store } = this.deps;
    try {
      if (job.row === "delivered") return void ends.push({ job, outcome: "acked" });
      const { message } = job;
      if (job.row !== "pending" || !message || isLapsed(message.expiresAt, this.now())) return void ends.push({ job, outcome: "expired" });
      await this.deliver(job, message, endpoints, ends);
    } catch (error) {
      this.deps.log?.("fallback_job_failed", { messageId: job.messageId, deviceId: job.deviceId, error: String(error) });
      await store.retryFallback(job, this.now() + backoff(job.attempts, null, this.deps.retryBaseMs)).catch(() => undefined);
    }
  }

  private async deliver(job: FallbackJob, message: NewMessage, endpoints: ChannelEndpoint[], ends: FallbackEnd[]): Promise<void> {
    const { store } = this.deps;
    // Only a retry has answers of earlier attempts to respect.
    const earlier = job.attempts > 0 ? await store.channelDeliveries(job.messageId, [job.deviceId]) : [];
    const refused = new Set(earlier.filter((d) => d.state === "rejected").map((d) => d.kind));
    const payload = channelMessage(job, message, this.now());
    let retryAfter: number | null | undefined;
    let tried = false;
    for (const kind of job.channels) {
      if (refused.has(kind)) continue;
      const adapter = await this.deps.adapters(job.appId, kind);
      const own = endpoints.filter((e) => e.kind === kind);
      if (!adapter || own.length === 0) continue;
      for (const endpoint of own) {
        tried = true;
        const { outcome, delivery } = await this.attempt(adapter, endpoint, payload);
        // The answer that ends the job is written with its end.
        if (outcome.kind === "accepted") return void ends.push({ job, outcome: "sent", delivery });
        await store.recordChannelDelivery(job.messageId, delivery);
        if (outcome.kind === "gone") await store.removeEndpoint(job.appId, endpoint, outcome.reason, this.now());
        if (outcome.kind === "retry") retryAfter = outcome.afterMs === null ? (retryAfter ?? null) : Math.max(retryAfter ?? 0, outcome.afterMs);
      }
    }
    if (retryAfter !== undefined && this.now() - job.dueAt < GIVE_UP_MS) return await store.retryFallback(job, this.now() + backoff(job.attempts, retryAfter, this.deps.retryBaseMs));
    ends.push({ job, outcome: tried ? "exhausted" : "no_endpoint" });
  }

  private async attempt(adapter: ChannelAdapter, endpoint: ChannelEndpoint, payload: ChannelMessage): Promise<{ outcome: ChannelOutcome; delivery: ChannelDelivery }> {
    const started = performance.now();
    const outcome = await adapter.send(endpoint, payload).catch((error: unknown): ChannelOutcome => ({ kind: "retry", reason: String(error), afterMs: null }));
    const state: ChannelDeliveryState = outcome.kind === "retry" ? "retrying" : outcome.kind;
    this.deps.onAttempt?.(endpoint.kind, state, (performance.now() - started) / 1000);
    const reason = outcome.kind === "accepted" ? outcome.providerId : outcome.reason;
    return { outcome, delivery: { deviceId: payload.deviceId, kind: endpoint.kind, state, reason, at: this.now() } };
  }
}

function backoff(attempts: number, retryAfterMs: number | null, baseMs = 5_000): number {
  return Math.max(retryAfterMs ?? 0, Math.min(RETRY_CAP_MS, baseMs * 2 ** attempts));
}

/** The message as a channel carries it: the id and seq let the SDK drop what it already has. */
function channelMessage(job: FallbackJob, message: NewMessage, now: number): ChannelMessage {
  const data = message.data instanceof Uint8Array ? decodeValue(message.data) : null;
  return {
    appId: job.appId,
    deviceId: job.deviceId,
    messageId: job.messageId,
    seq: job.seq,
    priority: PRIORITY_NAMES[message.priority] ?? "normal",
    sentAt: message.createdAt,
    ttlSeconds: message.expiresAt === null ? null : Math.max(0, Math.ceil((message.expiresAt - now) / 1000)),
    collapseKey: message.collapseKey,
    title: message.notification?.title ?? null,
    body: message.notification?.body ?? null,
    data,
    ...(message.notification?.email ? { email: message.notification.email } : {}),
  };
}
