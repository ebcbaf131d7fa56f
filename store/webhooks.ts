// Webhook endpoints and the delivery queue in the store. Secrets arrive sealed (core/sealing.ts).
import { and, asc, count, eq, lte } from "drizzle-orm";
import type { DueWebhookEvent, WebhookEndpoint } from "../core/webhooks.ts";
import { webhookEndpoints, webhookEvents, WebhookState } from "./channels-schema.ts";
import type { Db } from "./statement.ts";

const toEndpoint = (r: typeof webhookEndpoints.$inferSelect): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  createdAt: r.createdAt,
  rotatingUntil: r.previousUntil,
});

export async function createWebhook(db: Db, appId: string, w: { id: string; url: string; events: string[]; sealedSecret: string }, now: number): Promise<void> {
  await db.insert(webhookEndpoints).values({ id: w.id, appId, url: w.url, events: JSON.stringify(w.events), secret: w.sealedSecret, createdAt: now });
}

export async function listWebhooks(db: Db, appId: string): Promise<WebhookEndpoint[]> {
  return (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.appId, appId)).orderBy(asc(webhookEndpoints.createdAt))).map(toEndpoint);
}

/** Removes the endpoint and the deliveries still waiting for it. */
export async function deleteWebhook(db: Db, appId: string, id: string): Promise<boolean> {
  const [gone] = await db.batch([
    db.delete(webhookEndpoints).where(and(eq(webhookEndpoints.appId, appId), eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id }),
    db.delete(webhookEvents).where(and(eq(webhookEvents.appId, appId), eq(webhookEvents.endpointId, id), eq(webhookEvents.state, WebhookState.waiting))),
  ]);
  return gone.length > 0;
}

/** The current secret becomes the previous one, signing beside the new one until `previousUntil`. */
export async function rotateWebhookSecret(db: Db, appId: string, id: string, sealedSecret: string, previousUntil: number): Promise<WebhookEndpoint | null> {
  const [row] = await db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.appId, appId), eq(webhookEndpoints.id, id)));
  if (!row) return null;
  await db.update(webhookEndpoints).set({ secret: sealedSecret, previousSecret: row.secret, previousUntil }).where(eq(webhookEndpoints.id, id));
  return toEndpoint({ ...row, previousUntil });
}

export async function dueWebhookEvents(db: Db, now: number, limit: number): Promise<DueWebhookEvent[]> {
  const rows = await db
    .select({ event: webhookEvents, endpoint: webhookEndpoints })
    .from(webhookEvents)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookEvents.endpointId))
    .where(and(eq(webhookEvents.state, WebhookState.waiting), lte(webhookEvents.nextAt, now)))
    .orderBy(asc(webhookEvents.nextAt))
    .limit(limit);
  return rows.map(({ event: e, endpoint: w }) => ({
    id: e.id,
    appId: e.appId,
    type: e.type,
    payload: JSON.parse(e.payload) as Record<string, unknown>,
    createdAt: e.createdAt,
    attempts: e.attempts,
    url: w.url,
    sealedSecrets: [w.secret, ...(w.previousSecret && (w.previousUntil ?? 0) > now ? [w.previousSecret] : [])],
  }));
}

export async function settleWebhookEvent(db: Db, id: string, result: { delivered: true } | { delivered: false; nextAt: number | null; error: string }, attempts: number): Promise<void> {
  const set = result.delivered
    ? { state: WebhookState.delivered, attempts, lastError: null }
    : result.nextAt === null
      ? { state: WebhookState.failed, attempts, lastError: result.error }
      : { nextAt: result.nextAt, attempts, lastError: result.error };
  await db.update(webhookEvents).set(set).where(eq(webhookEvents.id, id));
}

export async function waitingWebhookEvents(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhookEvents).where(eq(webhookEvents.state, WebhookState.waiting));
  return row?.n ?? 0;
}

/** The apps with an endpoint that wants `type`. */
export async function appsWanting(db: Db, type: string): Promise<Set<string>> {
  const rows = await db.select({ appId: webhookEndpoints.appId, events: webhookEndpoints.events }).from(webhookEndpoints);
  return new Set(rows.filter((r) => (JSON.parse(r.events) as string[]).includes(type)).map((r) => r.appId));
}
