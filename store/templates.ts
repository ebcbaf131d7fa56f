// Message templates in the store (core/templates.ts renders them), and an app's default fallback.
import { and, asc, eq } from "drizzle-orm";
import type { StoredTemplate } from "../core/last-mile-store.ts";
import type { Template, TemplateVariant } from "../core/templates.ts";
import type { ChannelKind, FallbackPolicy } from "../core/channels.ts";
import { appFallbacks, templates } from "./channels-schema.ts";
import type { Db } from "./statement.ts";

const fromRow = (r: typeof templates.$inferSelect): StoredTemplate => ({
  name: r.name,
  defaultLocale: r.defaultLocale,
  locales: JSON.parse(r.locales) as Record<string, TemplateVariant>,
  updatedAt: r.updatedAt,
});

export async function putTemplate(db: Db, appId: string, t: Template, now: number): Promise<void> {
  const values = { defaultLocale: t.defaultLocale, locales: JSON.stringify(t.locales), updatedAt: now };
  await db
    .insert(templates)
    .values({ appId, name: t.name, ...values })
    .onConflictDoUpdate({ target: [templates.appId, templates.name], set: values });
}

export async function getTemplate(db: Db, appId: string, name: string): Promise<StoredTemplate | null> {
  const [row] = await db.select().from(templates).where(and(eq(templates.appId, appId), eq(templates.name, name)));
  return row ? fromRow(row) : null;
}

export async function listTemplates(db: Db, appId: string): Promise<StoredTemplate[]> {
  return (await db.select().from(templates).where(eq(templates.appId, appId)).orderBy(asc(templates.name))).map(fromRow);
}

export async function deleteTemplate(db: Db, appId: string, name: string): Promise<boolean> {
  return (await db.delete(templates).where(and(eq(templates.appId, appId), eq(templates.name, name))).returning({ name: templates.name })).length > 0;
}

// --- an app's default fallback (kept here beside the other per-app last-mile settings) ---

/** Sends read it on every request: an answer is kept this long, so a change shows within it. */
export const APP_FALLBACK_CACHE_MS = 2_000;

export async function appFallbackOf(db: Db, appId: string): Promise<FallbackPolicy | null> {
  const [row] = await db.select().from(appFallbacks).where(eq(appFallbacks.appId, appId));
  return row ? { afterMs: row.afterSeconds * 1000, channels: JSON.parse(row.channels) as ChannelKind[] } : null;
}

export async function setAppFallback(db: Db, appId: string, policy: FallbackPolicy | null, now: number): Promise<void> {
  if (!policy) return void (await db.delete(appFallbacks).where(eq(appFallbacks.appId, appId)));
  const values = { afterSeconds: Math.round(policy.afterMs / 1000), channels: JSON.stringify(policy.channels), updatedAt: now };
  await db.insert(appFallbacks).values({ appId, ...values }).onConflictDoUpdate({ target: appFallbacks.appId, set: values });
}
