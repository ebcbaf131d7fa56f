// Forwards the edge spool's sends (core/spool.ts) to the store, oldest first, as soon as the store
// takes writes again. Each forward writes the message under the id the edge gave it when it took
// the send, so a forward made twice (the edge died between the store's commit and the spool's
// delete) finds the id taken and only clears the spool: written once. Runs of one app's sends go
// through sendBatch, in order, and share the store's group commits.
import { PushmeshError } from "./errors.ts";
import type { Log } from "./log.ts";
import { sendBatch, type SendDeps, type SendResult } from "./send/send.ts";
import { type QueuedResult, storeAway, type SpoolingDeps } from "./send/spool.ts";
import type { Spool, SpooledSend } from "./spool.ts";
import { StoreConflict } from "./store.ts";

export type ForwardResult = "written" | "replayed" | "refused" | "handed_over";

/** A send handed over to another edge (POST /v1/handover), and what that edge answered for it. */
export type HandedOver = { appId: string; messageId: string; queuedAt: number; request: SpooledSend["request"] };
export type HandOverAnswer = {
  status: number;
  /** With 202: what the send got there (absent when an earlier hand-over of it was written). */
  result?: SendResult | QueuedResult;
  replayed?: boolean;
  error?: { code: string; message: string; details?: unknown };
};
/** `live`: a caller waits for this answer (the sends count against their apps' rates and quotas there); else they come from a spool. */
export type HandOver = (edge: string, items: HandedOver[], live: boolean) => Promise<HandOverAnswer[]>;

export type SpoolForwarderDeps = SpoolingDeps & {
  spool: Spool;
  log?: Log;
  onForward?: (result: ForwardResult, count: number) => void;
  /** The first wait after the store was found away; doubles to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Forwards that fail for a reason other than the store being away, before the send is refused as INTERNAL. */
  maxAttempts?: number;
  /** Sends read from the spool at a time. */
  pageSize?: number;
  /** Hands sends over to the edge they were meant for; without it they are written to the store here. */
  handOver?: HandOver;
  /** The most sends one hand-over carries (the other edge's maxBatchMessages). */
  handOverMax?: number;
  /**
   * With a store per region: the way a send goes now that the one it was kept for holds no such
   * device (the device moved home meanwhile): another edge, null for the store here, or undefined
   * when the directory names no other home (the send is refused then).
   */
  rehome?: (send: SpooledSend) => Promise<string | null | undefined>;
};

export class SpoolForwarder {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private waitMs: number;
  /** Sends refused as not found once already: the second time is final. */
  private readonly freshened = new Set<number>();

  constructor(private readonly deps: SpoolForwarderDeps) {
    this.waitMs = deps.retryMs ?? 250;
  }

  start(): void {
    this.wake();
  }

  /** Forward now (a send was just kept, or the forwarder is starting). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.drain()
      .catch((error: unknown) => {
        this.deps.log?.("spool_forward_failed", { error: String(error) });
        this.retryLater();
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          if (!this.timer) this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Until the spool is empty, or every way left is blocked (then again after a wait). A way (the
   * store here, or one other edge) that cannot take a send holds back its own later sends only:
   * the others go on, so one region's outage does not stall sends for the rest.
   */
  private async drain(): Promise<void> {
    const blocked = new Set<string>();
    while (!this.stopped) {
      const page = await this.deps.spool.oldest(this.deps.pageSize ?? 200, blocked);
      if (page.length === 0) {
        if (blocked.size > 0) this.retryLater();
        else this.waitMs = this.deps.retryMs ?? 250;
        return;
      }
      for (const run of runs(page, this.deps.handOver ? (this.deps.handOverMax ?? 100) : 0)) {
        const way = run[0]!.forwardTo && this.deps.handOver ? run[0]!.forwardTo : "";
        if (blocked.has(way)) continue;
        const forwarded = way !== "" ? await this.handOverRun(way, run) : await this.forwardRun(run);
        if (!forwarded) blocked.add(way);
      }
      if (blocked.size === 0) this.waitMs = this.deps.retryMs ?? 250;
    }
  }

  private retryLater(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, this.waitMs);
    this.waitMs = Math.min(this.waitMs * 2, this.deps.maxRetryMs ?? 2_000);
  }

  /** Forwards one app's run in order; false when the store was away (the rest of the run waits). */
  private async forwardRun(run: SpooledSend[]): Promise<boolean> {
    const { spool } = this.deps;
    // The quota was the edge's to take when it accepted the send; a forward does not take it again.
    const deps: SendDeps = { ...this.deps, limiter: undefined };
    let outcomes;
    try {
      outcomes = await sendBatch(deps, run[0]!.appId, run.map((s) => s.request), run.map((s) => ({ messageId: s.messageId, now: s.acceptedAt })));
    } catch (error) {
      if (storeAway(this.deps, error)) return false;
      throw error;
    }
    const done: number[] = [];
    let written = 0;
    let replayed = 0;
    let away = false;
    for (const [index, { outcome, error }] of outcomes.entries()) {
      const sent = run[index]!;
      if (outcome) {
        done.push(sent.seq);
        this.freshened.delete(sent.seq);
        written++;
      } else if (error instanceof StoreConflict && error.kind === "message_id") {
        done.push(sent.seq);
        replayed++;
      } else if (storeAway(this.deps, error)) {
        away = true;
        break;
      } else if (error instanceof PushmeshError && error.status === 404 && !this.freshened.has(sent.seq)) {
        // The replica may not have caught up yet with a device, user or template made just
        // before the store went away: read again from a fresh replica before refusing.
        this.freshened.add(sent.seq);
        await this.deps.store.freshen().catch(() => false);
        away = true;
        break;
      } else if (error instanceof PushmeshError && error.status < 500) {
        this.freshened.delete(sent.seq);
        if (!(await this.followed(sent, error.code))) await this.refuse(sent, { code: error.code, message: error.message });
      } else if ((await spool.failed(sent.seq, String(error))) >= (this.deps.maxAttempts ?? 10)) {
        await this.refuse(sent, { code: "INTERNAL", message: `forwarding failed ${this.deps.maxAttempts ?? 10} times; the last: ${String(error)}` });
      } else {
        away = true;
        break;
      }
    }
    if (done.length > 0) await spool.forwarded(done);
    if (written > 0) this.deps.onForward?.("written", written);
    if (replayed > 0) this.deps.onForward?.("replayed", replayed);
    return !away;
  }

  /** Hands one edge's run over in order; false when that edge was not reached or could not take a send (the rest waits). */
  private async handOverRun(edge: string, run: SpooledSend[]): Promise<boolean> {
    let answers;
    try {
      answers = await this.deps.handOver!(edge, run.map((s) => ({ appId: s.appId, messageId: s.messageId, queuedAt: s.acceptedAt, request: s.request })), false);
    } catch (error) {
      this.deps.log?.("handover_failed", { edge, sends: run.length, error: String(error) });
      return false;
    }
    const done: number[] = [];
    let away = false;
    for (const [index, sent] of run.entries()) {
      const answer = answers[index];
      if (answer?.status === 202) done.push(sent.seq);
      else if (answer && answer.status < 500 && answer.error) {
        if (!(await this.followed(sent, answer.error.code))) await this.refuse(sent, answer.error);
      } else {
        away = true;
        break;
      }
    }
    if (done.length > 0) {
      await this.deps.spool.forwarded(done);
      this.deps.onForward?.("handed_over", done.length);
    }
    return !away;
  }

  /** A send for a device that moved home since it was kept: it goes there instead of being refused. */
  private async followed(sent: SpooledSend, code: string): Promise<boolean> {
    if (code !== "DEVICE_NOT_FOUND" || !this.deps.rehome) return false;
    const way = await this.deps.rehome(sent).catch(() => undefined);
    if (way === undefined || way === sent.forwardTo) return false;
    this.deps.log?.("spooled_send_rehomed", { appId: sent.appId, messageId: sent.messageId, to: way ?? "store" });
    await this.deps.spool.redirect(sent.seq, way);
    return true;
  }

  private async refuse(sent: SpooledSend, error: { code: string; message: string }): Promise<void> {
    this.deps.log?.("spooled_send_refused", { appId: sent.appId, messageId: sent.messageId, ...error });
    // The app heard 202 "queued": it hears of the refusal by webhook. The event is written before
    // the spool lets the send go, so a crash between them repeats the event rather than loses it.
    await this.deps.store.recordRefusal(sent.appId, { messageId: sent.messageId, queuedAt: sent.acceptedAt, error });
    await this.deps.spool.refused(sent.seq, error, Date.now());
    this.deps.onForward?.("refused", 1);
  }
}

/**
 * Consecutive sends that go one way: one app's to the store here (one sendBatch), or any apps' to
 * one edge (one hand-over of at most `handOverMax`). Runs go in spool order.
 */
function runs(page: SpooledSend[], handOverMax: number): SpooledSend[][] {
  const way = (s: SpooledSend) => (s.forwardTo && handOverMax > 0 ? `edge ${s.forwardTo}` : `app ${s.appId}`);
  const out: SpooledSend[][] = [];
  for (const sent of page) {
    const last = out.at(-1);
    if (last && way(last[0]!) === way(sent) && (!sent.forwardTo || handOverMax === 0 || last.length < handOverMax)) last.push(sent);
    else out.push([sent]);
  }
  return out;
}
