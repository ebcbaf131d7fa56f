// Webhook deliveries: events are written to a durable queue in the same transaction as what they
// report (store/webhook-events.ts); this worker posts each, signed (core/webhook-signature.ts),
// and retries with backoff for a day. At least once: a receiver deduplicates by the event id.
import type { Log } from "./log.ts";
import type { Sealer } from "./sealing.ts";
import { EVENT_ID_HEADER, nextWebhookAttempt, SIGNATURE_HEADER, signWebhook } from "./webhook-signature.ts";

export const WEBHOOK_EVENTS = ["message.acked", "message.expired", "message.failed", "message.refused", "fallback.sent", "endpoint.removed"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export type WebhookEndpoint = { id: string; url: string; events: string[]; createdAt: number; rotatingUntil: number | null };
export type DueWebhookEvent = {
  id: string;
  appId: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: number;
  url: string;
  /** The current secret, then the previous one while a rotation lasts. */
  sealedSecrets: string[];
};
export type WebhookSettlement = { delivered: true } | { delivered: false; nextAt: number | null; error: string };

export interface WebhookStore {
  createWebhook(appId: string, endpoint: { id: string; url: string; events: string[]; sealedSecret: string }, now?: number): Promise<void>;
  listWebhooks(appId: string): Promise<WebhookEndpoint[]>;
  deleteWebhook(appId: string, id: string): Promise<boolean>;
  rotateWebhookSecret(appId: string, id: string, sealedSecret: string, previousUntil: number): Promise<WebhookEndpoint | null>;
  dueWebhookEvents(now: number, limit: number): Promise<DueWebhookEvent[]>;
  settleWebhookEvent(id: string, settlement: WebhookSettlement, attempts: number): Promise<void>;
  waitingWebhookEvents(): Promise<number>;
}

export type WebhookWorkerDeps = {
  store: WebhookStore;
  sealer: () => Promise<Sealer>;
  fetch: (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number }>;
  log?: Log;
  onDelivery?: (result: "delivered" | "retrying" | "failed") => void;
  now?: () => number;
  pollMs?: number;
  timeoutMs?: number;
  retryBaseMs?: number;
};

const PAGE = 100;

export class WebhookWorker {
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private started = false;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.started = true;
    this.arm();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Posts every event due now; resolves when done. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const due = await this.deps.store.dueWebhookEvents(this.now(), PAGE);
      await Promise.all(due.map((event) => this.deliver(event)));
      handled += due.length;
      if (due.length < PAGE) return handled;
    }
  }

  private arm(): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.log?.("webhooks_failed", { error: String(error) }))
        .finally(() => {
          this.running = null;
          this.arm();
        });
    }, this.deps.pollMs ?? 500);
  }

  private async deliver(event: DueWebhookEvent): Promise<void> {
    const body = JSON.stringify({ id: event.id, type: event.type, appId: event.appId, createdAt: event.createdAt, data: event.payload });
    let error: string;
    try {
      const sealer = await this.deps.sealer();
      const secrets = await Promise.all(event.sealedSecrets.map((s) => sealer.open<string>(s)));
      const res = await this.deps.fetch(event.url, {
        method: "POST",
        headers: { "content-type": "application/json", [EVENT_ID_HEADER]: event.id, [SIGNATURE_HEADER]: await signWebhook(body, secrets, this.now()) },
        body,
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 10_000),
      });
      if (res.status >= 200 && res.status < 300) {
        this.deps.onDelivery?.("delivered");
        return await this.deps.store.settleWebhookEvent(event.id, { delivered: true }, event.attempts + 1);
      }
      error = `HTTP ${res.status}`;
    } catch (e) {
      error = String(e);
    }
    const nextAt = nextWebhookAttempt(event.createdAt, event.attempts, this.now(), this.deps.retryBaseMs);
    this.deps.onDelivery?.(nextAt === null ? "failed" : "retrying");
    await this.deps.store.settleWebhookEvent(event.id, { delivered: false, nextAt, error }, event.attempts + 1);
  }
}
