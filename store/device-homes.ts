// The directory of homes (core/store.ts HomeDirectory): in a mesh with a store per region it lives
// in the global database, and every region reads it from its own replica.
import { and, eq, inArray } from "drizzle-orm";
import { deviceHomes } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function homesOfDevices(db: Db, appId: string, deviceIds: string[]): Promise<Map<string, string>> {
  const homes = new Map<string, string>();
  if (deviceIds.length === 0) return homes;
  const rows = await db
    .select({ deviceId: deviceHomes.deviceId, home: deviceHomes.home })
    .from(deviceHomes)
    .where(and(eq(deviceHomes.appId, appId), inArray(deviceHomes.deviceId, [...new Set(deviceIds)])));
  for (const row of rows) homes.set(row.deviceId, row.home);
  return homes;
}

export async function homesOfUser(db: Db, appId: string, userId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ home: deviceHomes.home })
    .from(deviceHomes)
    .where(and(eq(deviceHomes.appId, appId), eq(deviceHomes.userId, userId)));
  return rows.map((r) => r.home).sort();
}

export async function setDeviceHome(db: Db, appId: string, deviceId: string, home: string, userId: string | null | undefined, now: number): Promise<void> {
  const set = userId === undefined ? { home, updatedAt: now } : { home, userId, updatedAt: now };
  await db
    .insert(deviceHomes)
    .values({ appId, deviceId, home, userId: userId ?? null, updatedAt: now })
    .onConflictDoUpdate({ target: [deviceHomes.appId, deviceHomes.deviceId], set });
}

export async function forgetDeviceHomes(db: Db, appId: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await db.delete(deviceHomes).where(and(eq(deviceHomes.appId, appId), inArray(deviceHomes.deviceId, deviceIds)));
}
