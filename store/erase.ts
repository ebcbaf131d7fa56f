// Erasing devices: every row that names them — inbox, waiting and released targets, frequency
// slots, topic subscriptions, their preferences, the devices themselves — and the messages only
// they were sent, in one transaction. Topic messages stay: they belong to the topic's stream.
import { and, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { ErasedCounts } from "../core/store.ts";
import { deferredTargets, devices, frequencyLog, idempotencyKeys, inbox, messages, preferences, releasedTargets } from "./schema.ts";
import type { Db } from "./statement.ts";
import { topicMessages, topicSubscriptions } from "./topics-schema.ts";
import { channelDeliveries, channelEndpoints, fallbackJobs } from "./channels-schema.ts";

export async function eraseDevices(db: Db, appId: string, deviceIds: string[]): Promise<ErasedCounts> {
  const mine = (table: typeof inbox | typeof deferredTargets) => and(eq(table.appId, appId), inArray(table.deviceId, deviceIds));
  // Messages these devices were sent that no other device was, nor a topic.
  const others = (table: typeof inbox | typeof deferredTargets) =>
    sql`EXISTS (SELECT 1 FROM ${table} o WHERE o.message_id = ${messages.id} AND NOT (o.app_id = ${appId} AND o.device_id IN ${deviceIds}))`;
  const sent = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.appId, appId),
        sql`(${messages.id} IN (SELECT message_id FROM ${inbox} WHERE ${mine(inbox)}) OR ${messages.id} IN (SELECT message_id FROM ${deferredTargets} WHERE ${mine(deferredTargets)}))`,
        sql`NOT ${others(inbox)}`,
        sql`NOT ${others(deferredTargets)}`,
        notInArray(messages.id, db.select({ id: topicMessages.messageId }).from(topicMessages)),
      ),
    );
  const only = (await sent).map((m) => m.id);
  const [inboxRows, waiting, , , subscriptions, prefs, , , erased, endpoints] = await db.batch([
    db.delete(inbox).where(mine(inbox)).returning({ seq: inbox.seq }),
    db.delete(deferredTargets).where(mine(deferredTargets)).returning({ id: deferredTargets.messageId }),
    db.delete(releasedTargets).where(and(inArray(releasedTargets.deviceId, deviceIds), inArray(releasedTargets.messageId, db.select({ id: messages.id }).from(messages).where(eq(messages.appId, appId))))),
    db.delete(frequencyLog).where(and(eq(frequencyLog.appId, appId), inArray(frequencyLog.deviceId, deviceIds))),
    db.delete(topicSubscriptions).where(and(eq(topicSubscriptions.appId, appId), inArray(topicSubscriptions.deviceId, deviceIds))).returning({ topic: topicSubscriptions.topic }),
    db
      .delete(preferences)
      .where(and(eq(preferences.appId, appId), eq(preferences.subjectType, "device"), inArray(preferences.subjectId, deviceIds)))
      .returning({ id: preferences.subjectId }),
    db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.appId, appId), inArray(idempotencyKeys.messageId, only.length > 0 ? only : [""]))),
    db.delete(messages).where(inArray(messages.id, only.length > 0 ? only : [""])),
    db.delete(devices).where(and(eq(devices.appId, appId), inArray(devices.id, deviceIds))).returning({ id: devices.id }),
    db
      .delete(channelEndpoints)
      .where(and(eq(channelEndpoints.appId, appId), eq(channelEndpoints.subjectType, "device"), inArray(channelEndpoints.subjectId, deviceIds)))
      .returning({ kind: channelEndpoints.kind }),
    db.delete(fallbackJobs).where(and(eq(fallbackJobs.appId, appId), inArray(fallbackJobs.deviceId, deviceIds))),
    db
      .delete(channelDeliveries)
      .where(and(inArray(channelDeliveries.deviceId, deviceIds), inArray(channelDeliveries.messageId, db.select({ id: messages.id }).from(messages).where(eq(messages.appId, appId))))),
  ]);
  return {
    deviceIds: erased.map((d) => d.id),
    inboxRows: inboxRows.length,
    waitingTargets: waiting.length,
    messages: only.length,
    subscriptions: subscriptions.length,
    preferences: prefs.length,
    endpoints: endpoints.length,
  };
}
