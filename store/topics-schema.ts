// Topic streams: each topic message is stored once, with an offset of its own in the topic.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { apps, messages } from "./schema.ts";

export const topics = sqliteTable(
  "topics",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    name: text().notNull(),
    /** Offset of the newest message; the next one gets lastOffset + 1. */
    lastOffset: integer().notNull().default(0),
    createdAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.name] })],
);

export const topicMessages = sqliteTable(
  "topic_messages",
  {
    appId: text().notNull(),
    topic: text().notNull(),
    offset: integer().notNull(),
    messageId: text()
      .notNull()
      .references(() => messages.id),
  },
  (t) => [primaryKey({ columns: [t.appId, t.topic, t.offset] }), index("topic_messages_message").on(t.messageId)],
);

export const topicSubscriptions = sqliteTable(
  "topic_subscriptions",
  {
    appId: text().notNull(),
    topic: text().notNull(),
    deviceId: text().notNull(),
    /** The topic's offset when the device subscribed: a device with no offset of its own resumes here. */
    startOffset: integer().notNull(),
    /** The highest offset a relay wrote to this device's connection, or the device reported in HELLO: what tracking counts as delivered. */
    deliveredOffset: integer().notNull().default(0),
    createdAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.topic, t.deviceId] }), index("topic_subscriptions_device").on(t.appId, t.deviceId)],
);
