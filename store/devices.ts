// Devices: registration, lookups by id and by user, and the check that a send names only devices
// of its app. The relay's per-HELLO reads are hand-written in device-reads.ts.
import { and, eq, inArray } from "drizzle-orm";
import { PushmeshError } from "../core/errors.ts";
import { randomEpoch } from "../core/ids.ts";
import type { DeviceRecord } from "../core/store.ts";
import type { DeviceReads } from "./device-reads.ts";
import { devices } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function upsertDevice(
  db: Db,
  reads: DeviceReads,
  appId: string,
  input: { deviceId: string; userId?: string | null; platform?: string | null; locale?: string | null; home?: string },
  now: number,
): Promise<{ device: DeviceRecord; created: boolean }> {
  const inserted = await db
    .insert(devices)
    .values({
      appId,
      id: input.deviceId,
      userId: input.userId ?? null,
      platform: input.platform ?? null,
      locale: input.locale ?? null,
      home: input.home ?? null,
      epoch: randomEpoch(),
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: devices.id });
  const created = inserted.length > 0;
  if (!created && (input.userId !== undefined || input.platform !== undefined || input.locale !== undefined)) {
    const set: { userId?: string | null; platform?: string | null; locale?: string | null } = {};
    if (input.userId !== undefined) set.userId = input.userId;
    if (input.platform !== undefined) set.platform = input.platform;
    if (input.locale !== undefined) set.locale = input.locale;
    await db.update(devices).set(set).where(and(eq(devices.appId, appId), eq(devices.id, input.deviceId)));
  }
  const device = await reads.getDevice(appId, input.deviceId);
  if (!device) throw new PushmeshError("INTERNAL", "device vanished during upsert");
  return { device, created };
}

/** Refuses the device's tokens issued up to `at`; false when the device does not exist. */
export async function revokeDeviceTokens(db: Db, appId: string, deviceId: string, at: number): Promise<boolean> {
  const updated = await db
    .update(devices)
    .set({ tokensRevokedAt: at })
    .where(and(eq(devices.appId, appId), eq(devices.id, deviceId)))
    .returning({ id: devices.id });
  return updated.length > 0;
}

/** Many devices in statements of 500 rows; existing ones are left as they are. */
export async function registerDevices(db: Db, appId: string, deviceIds: string[], now: number): Promise<number> {
  let created = 0;
  for (let i = 0; i < deviceIds.length; i += 500) {
    const rows = deviceIds.slice(i, i + 500).map((id) => ({ appId, id, epoch: randomEpoch(), createdAt: now }));
    created += (await db.insert(devices).values(rows).onConflictDoNothing().returning({ id: devices.id })).length;
  }
  return created;
}

/** The ids among `deviceIds` that are not devices of the app. */
export async function unknownDevices(db: Db, appId: string, deviceIds: string[]): Promise<string[]> {
  const known = await db
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.appId, appId), inArray(devices.id, deviceIds)));
  const found = new Set(known.map((d) => d.id));
  return deviceIds.filter((d) => !found.has(d));
}


export async function devicesOfUser(db: Db, appId: string, userId: string): Promise<string[]> {
  const rows = await db
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.appId, appId), eq(devices.userId, userId)));
  return rows.map((r) => r.id);
}
