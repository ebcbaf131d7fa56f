// Topic streams in the store: a topic message is written once with the topic's next offset;
// subscriptions remember where each device started so a device without offsets loses nothing.
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { PriorityCode } from "../core/protocol.ts";
import type { NewMessage, TopicMessage } from "../core/store.ts";
import { bytesToStore, payloadOf } from "./payload.ts";
import { messages } from "./schema.ts";
import type { Db } from "./statement.ts";
import { topicMessages, topicSubscriptions, topics } from "./topics-schema.ts";

const thisTopic = (appId: string, topic: string) => and(eq(topics.appId, appId), eq(topics.name, topic));

/** Subscribes devices (idempotent); returns the offset each new subscription starts after. */
export async function subscribeTopic(db: Db, appId: string, topic: string, deviceIds: string[], now = Date.now()): Promise<number> {
  // The start offset is read inside the insert, in the same transaction as the answer's read.
  const head = sql`(SELECT ${topics.lastOffset} FROM ${topics} WHERE ${topics.appId} = ${appId} AND ${topics.name} = ${topic})`;
  const [, [row]] = await db.batch([
    db.insert(topics).values({ appId, name: topic, createdAt: now }).onConflictDoNothing(),
    db.select({ lastOffset: topics.lastOffset }).from(topics).where(thisTopic(appId, topic)),
    db
      .insert(topicSubscriptions)
      .values(deviceIds.map((deviceId) => ({ appId, topic, deviceId, startOffset: head, createdAt: now })))
      .onConflictDoNothing(),
  ]);
  return row?.lastOffset ?? 0;
}

export async function unsubscribeTopic(db: Db, appId: string, topic: string, deviceIds: string[]): Promise<void> {
  await db
    .delete(topicSubscriptions)
    .where(and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.topic, topic), inArray(topicSubscriptions.deviceId, deviceIds)));
}

export async function topicSubscriberCount(db: Db, appId: string, topic: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(topicSubscriptions)
    .where(and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.topic, topic)));
  return row?.n ?? 0;
}

/** Stores the message once and gives it the topic's next offset, atomically. */
export async function publishTopic(db: Db, message: NewMessage, topic: string): Promise<number> {
  const { appId } = message;
  // Its targets are the topic's subscribers at this moment, counted in the same transaction.
  const subscribers = sql<number>`(SELECT count(*) FROM ${topicSubscriptions} WHERE ${topicSubscriptions.appId} = ${appId} AND ${topicSubscriptions.topic} = ${topic})`;
  const [, , [assigned]] = await db.batch([
    db.insert(messages).values({
      ...message,
      data: bytesToStore(message.data),
      id: message.messageId,
      targetCount: subscribers,
      notification: message.notification ? JSON.stringify(message.notification) : null,
      // A topic message has no per-device fallback (core/send/request.ts refuses one).
      fallback: null,
    }),
    db.insert(topics).values({ appId, name: topic, createdAt: message.createdAt }).onConflictDoNothing(),
    db
      .update(topics)
      .set({ lastOffset: sql`${topics.lastOffset} + 1` })
      .where(thisTopic(appId, topic))
      .returning({ offset: topics.lastOffset }),
    db.insert(topicMessages).select(
      db
        .select({
          appId: topics.appId,
          topic: topics.name,
          offset: topics.lastOffset,
          messageId: sql`${message.messageId}`.as("message_id"),
        })
        .from(topics)
        .where(thisTopic(appId, topic)),
    ),
  ]);
  if (!assigned) throw new Error(`topic ${topic} was not written`);
  return assigned.offset;
}

export async function topicOffset(db: Db, appId: string, topic: string): Promise<number> {
  const [row] = await db.select({ lastOffset: topics.lastOffset }).from(topics).where(thisTopic(appId, topic));
  return row?.lastOffset ?? 0;
}

export async function readTopic(db: Db, appId: string, topic: string, afterOffset: number, limit: number): Promise<TopicMessage[]> {
  const rows = await db
    .select({
      offset: topicMessages.offset,
      messageId: topicMessages.messageId,
      priority: messages.priority,
      data: messages.data,
      createdAt: messages.createdAt,
      expiresAt: messages.expiresAt,
    })
    .from(topicMessages)
    .innerJoin(messages, eq(messages.id, topicMessages.messageId))
    .where(and(eq(topicMessages.appId, appId), eq(topicMessages.topic, topic), gt(topicMessages.offset, afterOffset)))
    .orderBy(asc(topicMessages.offset))
    .limit(limit);
  return rows.map((r) => ({ ...r, priority: r.priority as PriorityCode, data: payloadOf(r.data) }));
}
