// Each app's allowed browser origins (CORS): a small table read per cross-origin request.
import { asc, eq, inArray } from "drizzle-orm";
import { appCorsOrigins as table } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function appCorsOrigins(db: Db, appId: string): Promise<string[]> {
  const rows = await db.select({ origin: table.origin }).from(table).where(eq(table.appId, appId)).orderBy(asc(table.origin));
  return rows.map((r) => r.origin);
}

/** Delete and insert in one batch, so a reader sees the old list or the new one, never half. */
export async function setAppCorsOrigins(db: Db, appId: string, origins: string[]): Promise<void> {
  const unique = [...new Set(origins)];
  const remove = db.delete(table).where(eq(table.appId, appId));
  if (unique.length === 0) {
    await remove;
    return;
  }
  await db.batch([remove, db.insert(table).values(unique.map((origin) => ({ appId, origin })))]);
}

export async function corsOriginAllowedByAnyApp(db: Db, origin: string): Promise<boolean> {
  const [row] = await db.select({ appId: table.appId }).from(table).where(inArray(table.origin, [origin, "*"])).limit(1);
  return row !== undefined;
}
