// Message templates in the store (core/templates.ts renders them).
import { and, asc, eq } from "drizzle-orm";
import type { StoredTemplate } from "../core/last-mile-store.ts";
import type { Template, TemplateVariant } from "../core/templates.ts";
import { templates } from "./channels-schema.ts";
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
