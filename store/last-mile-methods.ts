// The store's last-mile methods (templates, webhooks, channel endpoints and credentials, the
// fallback queue), kept apart from libsql-store.ts, which extends this class.
import type { Subject } from "../core/store.ts";
import type { ChannelEndpoint, ChannelKind, FallbackPolicy } from "../core/channels.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import type { ChannelDelivery, DueFallback, FallbackEnd, FallbackJob, FallbackOutcome, FallbackStatus, StoredTemplate } from "../core/last-mile-store.ts";
import * as lastMile from "./last-mile.ts";
import * as tpl from "./templates.ts";
import * as hooks from "./webhooks.ts";
import type { DueWebhookEvent, WebhookEndpoint, WebhookSettlement } from "../core/webhooks.ts";
import type { Template } from "../core/templates.ts";
import type { Db } from "./statement.ts";
import { appEvent } from "./webhook-events.ts";

/** Another process's new message.acked endpoint is seen by this one's ack flushes within this long. */
export const ACKED_APPS_MS = 2_000;

export abstract class LastMileMethods {
  abstract readonly db: Db;
  private readonly fallbacks = new ExpiringCache<string, FallbackPolicy | null>(tpl.APP_FALLBACK_CACHE_MS, 10_000);

  async appFallback(appId: string): Promise<FallbackPolicy | null> {
    const now = Date.now();
    const known = this.fallbacks.get(appId, now);
    if (known !== undefined) return known;
    const policy = await tpl.appFallbackOf(this.db, appId);
    this.fallbacks.set(appId, policy, now);
    return policy;
  }
  async setAppFallback(appId: string, policy: FallbackPolicy | null, now = Date.now()): Promise<void> {
    await tpl.setAppFallback(this.db, appId, policy, now);
    this.fallbacks.forget(() => true);
  }

  // --- webhooks ---
  async recordRefusal(appId: string, refusal: { messageId: string; queuedAt: number; error: { code: string; message: string } }, now = Date.now()): Promise<void> {
    await this.db.$client.batch([appEvent(appId, "message.refused", refusal, now)], "write");
  }
  /** Apps with a message.acked endpoint, for the ack flush; read again at most every ACKED_APPS_MS. */
  private ackedApps: { apps: Promise<Set<string>>; at: number } | null = null;
  protected appsWantingAcks(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.ackedApps || now - this.ackedApps.at > ACKED_APPS_MS) this.ackedApps = { apps: hooks.appsWanting(this.db, "message.acked"), at: now };
    return this.ackedApps.apps;
  }
  async createWebhook(appId: string, endpoint: { id: string; url: string; events: string[]; sealedSecret: string }, now = Date.now()): Promise<void> {
    await hooks.createWebhook(this.db, appId, endpoint, now);
    this.ackedApps = null;
  }
  listWebhooks(appId: string): Promise<WebhookEndpoint[]> {
    return hooks.listWebhooks(this.db, appId);
  }
  async deleteWebhook(appId: string, id: string): Promise<boolean> {
    const gone = await hooks.deleteWebhook(this.db, appId, id);
    this.ackedApps = null;
    return gone;
  }
  rotateWebhookSecret(appId: string, id: string, sealedSecret: string, previousUntil: number): Promise<WebhookEndpoint | null> {
    return hooks.rotateWebhookSecret(this.db, appId, id, sealedSecret, previousUntil);
  }
  dueWebhookEvents(now: number, limit: number): Promise<DueWebhookEvent[]> {
    return hooks.dueWebhookEvents(this.db, now, limit);
  }
  settleWebhookEvent(id: string, settlement: WebhookSettlement, attempts: number): Promise<void> {
    return hooks.settleWebhookEvent(this.db, id, settlement, attempts);
  }
  waitingWebhookEvents(): Promise<number> {
    return hooks.waitingWebhookEvents(this.db);
  }
  // --- the last mile ---
  putTemplate(appId: string, template: Template, now = Date.now()): Promise<void> {
    return tpl.putTemplate(this.db, appId, template, now);
  }
  getTemplate(appId: string, name: string): Promise<StoredTemplate | null> {
    return tpl.getTemplate(this.db, appId, name);
  }
  listTemplates(appId: string): Promise<StoredTemplate[]> {
    return tpl.listTemplates(this.db, appId);
  }
  deleteTemplate(appId: string, name: string): Promise<boolean> {
    return tpl.deleteTemplate(this.db, appId, name);
  }
  putEndpoints(appId: string, subject: Subject, endpoints: ChannelEndpoint[], now = Date.now()): Promise<void> {
    return lastMile.putEndpoints(this.db, appId, subject, endpoints, now);
  }
  endpointsOf(appId: string, subject: Subject): Promise<ChannelEndpoint[]> {
    return lastMile.endpointsOf(this.db, appId, subject);
  }
  endpointsForDevice(appId: string, deviceId: string): Promise<ChannelEndpoint[]> {
    return lastMile.endpointsForDevice(this.db, appId, deviceId);
  }
  endpointsForDevices(devices: { appId: string; deviceId: string }[]): Promise<ChannelEndpoint[][]> {
    return lastMile.endpointsForDevices(this.db, devices);
  }
  removeEndpoint(appId: string, endpoint: ChannelEndpoint, reason: string, now = Date.now()): Promise<void> {
    return lastMile.removeEndpoint(this.db, appId, endpoint, reason, now);
  }
  putCredentials(appId: string, kind: ChannelKind, sealed: string, shown: Record<string, unknown>, now = Date.now()): Promise<void> {
    return lastMile.putCredentials(this.db, appId, kind, sealed, shown, now);
  }
  credentialsOf(appId: string, kind: ChannelKind) {
    return lastMile.credentialsOf(this.db, appId, kind);
  }
  configuredChannels(appId: string) {
    return lastMile.configuredChannels(this.db, appId);
  }
  deleteCredentials(appId: string, kind: ChannelKind): Promise<boolean> {
    return lastMile.deleteCredentials(this.db, appId, kind);
  }
  dueFallbacks(now: number, limit: number): Promise<DueFallback[]> {
    return lastMile.dueFallbacks(this.db, now, limit);
  }
  nextFallbackAt(): Promise<number | null> {
    return lastMile.nextFallbackAt(this.db);
  }
  advanceFallbacks(messageId: string, deviceIds: string[], at: number): Promise<void> {
    return lastMile.advanceFallbacks(this.db, messageId, deviceIds, at);
  }
  retryFallback(job: FallbackJob, dueAt: number): Promise<void> {
    return lastMile.retryFallback(this.db, job, dueAt);
  }
  finishFallbacks(ends: FallbackEnd[]): Promise<void> {
    return lastMile.finishFallbacks(this.db, ends);
  }
  finishFallback(job: FallbackJob, outcome: FallbackOutcome, delivery?: ChannelDelivery): Promise<void> {
    return lastMile.finishFallback(this.db, job, outcome, delivery);
  }
  waitingFallbacks(): Promise<number> {
    return lastMile.waitingFallbacks(this.db);
  }
  recordChannelDelivery(messageId: string, delivery: ChannelDelivery): Promise<void> {
    return lastMile.recordChannelDelivery(this.db, messageId, delivery);
  }
  channelDeliveries(messageId: string, deviceIds: string[]): Promise<ChannelDelivery[]> {
    return lastMile.channelDeliveriesOf(this.db, messageId, deviceIds);
  }
  fallbacksOf(messageId: string, deviceIds: string[]): Promise<FallbackStatus[]> {
    return lastMile.fallbacksOf(this.db, messageId, deviceIds);
  }
}
