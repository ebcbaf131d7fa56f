// Topic streams in the store: a topic message is written once with the topic's next offset;
// subscriptions remember where each device started so a device without offsets loses nothing.
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { PriorityCode } from "../core/protocol.ts";
import { messages } from "./schema.ts";
import type { Db, NewMessage } from "./libsql-store.ts";
import { topicMessages, topicSubscriptions, topics } from "./topics-schema.ts";

export type TopicMessage = {
  offset: number;
  messageId: string;
  priority: PriorityCode;
  data: unknown;
  createdAt: number;
  expiresAt: number | null;
};

export class TopicStore {
  constructor(private readonly db: Db) {}

  /** Subscribes devices (idempotent); returns the offset each new subscription starts after. */
  async subscribe(appId: string, topic: string, deviceIds: string[], now = Date.now()): Promise<number> {
    const [, [row]] = await this.db.batch([
      this.db.insert(topics).values({ appId, name: topic, createdAt: now }).onConflictDoNothing(),
      this.db
        .select({ lastOffset: topics.lastOffset })
        .from(topics)
        .where(and(eq(topics.appId, appId), eq(topics.name, topic))),
      // One row per device from a JSON array: one statement whatever the number of devices.
      this.db.run(sql`
        INSERT INTO ${topicSubscriptions} (app_id, topic, device_id, start_offset, created_at)
        SELECT ${topics.appId}, ${topics.name}, j.value, ${topics.lastOffset}, ${now}
        FROM ${topics}, json_each(${JSON.stringify(deviceIds)}) AS j
        WHERE ${topics.appId} = ${appId} AND ${topics.name} = ${topic}
        ON CONFLICT DO NOTHING`),
    ]);
    return row?.lastOffset ?? 0;
  }

  async unsubscribe(appId: string, topic: string, deviceIds: string[]): Promise<void> {
    await this.db
      .delete(topicSubscriptions)
      .where(
        and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.topic, topic), inArray(topicSubscriptions.deviceId, deviceIds)),
      );
  }

  async subscriptionsOf(appId: string, deviceId: string): Promise<{ topic: string; startOffset: number }[]> {
    return this.db
      .select({ topic: topicSubscriptions.topic, startOffset: topicSubscriptions.startOffset })
      .from(topicSubscriptions)
      .where(and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.deviceId, deviceId)));
  }

  async subscriberCount(appId: string, topic: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(topicSubscriptions)
      .where(and(eq(topicSubscriptions.appId, appId), eq(topicSubscriptions.topic, topic)));
    return row?.n ?? 0;
  }

  /** Stores the message once and gives it the topic's next offset, atomically. */
  async publish(message: NewMessage, topic: string): Promise<number> {
    const { appId } = message;
    const [, , [assigned]] = await this.db.batch([
      this.db.insert(messages).values({ id: message.messageId, ...message, targetCount: 0 }),
      this.db.insert(topics).values({ appId, name: topic, createdAt: message.createdAt }).onConflictDoNothing(),
      this.db
        .update(topics)
        .set({ lastOffset: sql`${topics.lastOffset} + 1` })
        .where(and(eq(topics.appId, appId), eq(topics.name, topic)))
        .returning({ offset: topics.lastOffset }),
      this.db.insert(topicMessages).select(
        this.db
          .select({
            appId: topics.appId,
            topic: topics.name,
            offset: topics.lastOffset,
            messageId: sql`${message.messageId}`.as("message_id"),
          })
          .from(topics)
          .where(and(eq(topics.appId, appId), eq(topics.name, topic))),
      ),
    ]);
    if (!assigned) throw new Error(`topic ${topic} was not written`);
    return assigned.offset;
  }

  async latestOffset(appId: string, topic: string): Promise<number> {
    const [row] = await this.db
      .select({ lastOffset: topics.lastOffset })
      .from(topics)
      .where(and(eq(topics.appId, appId), eq(topics.name, topic)));
    return row?.lastOffset ?? 0;
  }

  async read(appId: string, topic: string, afterOffset: number, limit: number): Promise<TopicMessage[]> {
    const rows = await this.db
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
    return rows.map((r) => ({ ...r, priority: r.priority as PriorityCode, data: JSON.parse(r.data) as unknown }));
  }
}
