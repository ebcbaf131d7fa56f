// A device's move between homes, as the two stores see it. The old home seals the device in one
// transaction that also reads everything that goes with it: its row is renamed to a sealed id, so
// every send, HELLO and ack here finds no such device while the rest stays for a retry or an undo.
// The new home writes what it was given in one transaction, idempotently. Once it has, the old
// home erases what it kept. Tables moved: the device, its inbox after its acked seq with their
// messages, its waiting targets and fallback jobs, its preferences and endpoints; its topic
// subscriptions move by name (each home has its own streams, so offsets do not travel).
import { and, eq, inArray, or } from "drizzle-orm";
import type { DeviceMove } from "../core/store.ts";
import { channelEndpoints, fallbackJobs } from "./channels-schema.ts";
import { deferredTargets, devices, inbox, messages, preferences } from "./schema.ts";
import type { Db } from "./statement.ts";
import { topicSubscriptions } from "./topics-schema.ts";

const SEALED = "\u0000moving";
/** The id a sealed device's row carries: no device id has this character (edge/fields.ts). */
export const sealedId = (deviceId: string) => `${deviceId}${SEALED}`;

/** Seals the device and answers what moves with it; a device sealed already (a move resumed) answers the same. Null: no such device here. */
export async function sealDevice(db: Db, appId: string, deviceId: string, to: string, now: number): Promise<DeviceMove | null> {
  const mine = <T extends typeof inbox | typeof deferredTargets | typeof fallbackJobs>(t: T) => and(eq(t.appId, appId), eq(t.deviceId, deviceId));
  const subject = <T extends typeof preferences | typeof channelEndpoints>(t: T) => and(eq(t.appId, appId), eq(t.subjectType, "device"), eq(t.subjectId, deviceId));
  // One transaction: what is read is exactly what the seal holds back from every later write.
  const [rows, inboxRows, waiting, jobs, prefs, endpoints, subscriptions, messageRows] = await db.batch([
    db.select().from(devices).where(and(eq(devices.appId, appId), inArray(devices.id, [deviceId, sealedId(deviceId)]))),
    db.select().from(inbox).where(mine(inbox)),
    db.select().from(deferredTargets).where(mine(deferredTargets)),
    db.select().from(fallbackJobs).where(mine(fallbackJobs)),
    db.select().from(preferences).where(subject(preferences)),
    db.select().from(channelEndpoints).where(subject(channelEndpoints)),
    db.select({ topic: topicSubscriptions.topic }).from(topicSubscriptions).where(and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.deviceId, deviceId))),
    db
      .select()
      .from(messages)
      .where(
        or(
          inArray(messages.id, db.select({ id: inbox.messageId }).from(inbox).where(mine(inbox))),
          inArray(messages.id, db.select({ id: deferredTargets.messageId }).from(deferredTargets).where(mine(deferredTargets))),
        ),
      ),
    db.update(devices).set({ id: sealedId(deviceId) }).where(and(eq(devices.appId, appId), eq(devices.id, deviceId))),
  ]);
  const device = rows[0];
  if (!device) return null;
  const kept = inboxRows.filter((r) => r.seq > device.ackedSeq);
  const needed = new Set([...kept.map((r) => r.messageId), ...waiting.map((r) => r.messageId)]);
  return {
    appId,
    deviceId,
    to,
    at: now,
    topics: subscriptions.map((s) => s.topic),
    rows: {
      device: [{ ...device, id: deviceId, home: to }],
      messages: messageRows.filter((m) => needed.has(m.id)),
      inbox: kept,
      deferredTargets: waiting,
      fallbackJobs: jobs,
      preferences: prefs,
      channelEndpoints: endpoints,
    },
  };
}

/** Puts a sealed device back as it was (the new home refused it). */
export async function unsealDevice(db: Db, appId: string, deviceId: string): Promise<void> {
  await db.update(devices).set({ id: deviceId }).where(and(eq(devices.appId, appId), eq(devices.id, sealedId(deviceId))));
}

/** Writes a device moved here, in one transaction; what is here already stays (a move repeated writes nothing twice). */
export async function moveIn(db: Db, move: DeviceMove): Promise<void> {
  const r = move.rows;
  // The rows are these tables' own, as the old home read them.
  const of = <T extends { $inferInsert: unknown }>(_table: T, rows: Record<string, unknown>[]) => rows as T["$inferInsert"][];
  const inserts = [
    db.insert(devices).values(of(devices, r.device)).onConflictDoNothing(),
    r.messages.length > 0 ? db.insert(messages).values(of(messages, r.messages)).onConflictDoNothing() : null,
    r.inbox.length > 0 ? db.insert(inbox).values(of(inbox, r.inbox)).onConflictDoNothing() : null,
    r.deferredTargets.length > 0 ? db.insert(deferredTargets).values(of(deferredTargets, r.deferredTargets)).onConflictDoNothing() : null,
    r.fallbackJobs.length > 0 ? db.insert(fallbackJobs).values(of(fallbackJobs, r.fallbackJobs)).onConflictDoNothing() : null,
    r.preferences.length > 0 ? db.insert(preferences).values(of(preferences, r.preferences)).onConflictDoNothing() : null,
    r.channelEndpoints.length > 0 ? db.insert(channelEndpoints).values(of(channelEndpoints, r.channelEndpoints)).onConflictDoNothing() : null,
  ].filter((q) => q !== null);
  await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
}

/** The sealed row, once the new home holds the device (the rest goes as an erase of the device id). */
export async function dropSealed(db: Db, appId: string, deviceId: string): Promise<void> {
  await db.delete(devices).where(and(eq(devices.appId, appId), eq(devices.id, sealedId(deviceId))));
}
