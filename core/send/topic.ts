// A topic send: the message is stored once in the topic's stream with the next offset, then every
// node fans it out to its subscribed connections. A lost broadcast costs latency only: devices
// resume each topic from their last offset when they reconnect.
import type { Engine } from "../engine.ts";
import { PushmeshError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import type { Log } from "../log.ts";
import { StoreConflict, type Store } from "../store.ts";
import type { ValidSend } from "./request.ts";

export type TopicPublished = { messageId: string; topic: string; offset: number; subscribers: number };

export async function publishToTopic(
  deps: { store: Store; engine: Engine; log?: Log },
  appId: string,
  topic: string,
  valid: ValidSend,
  now: number,
  messageId = uuidv7(now),
): Promise<TopicPublished> {
  const message = {
    appId,
    messageId,
    priority: valid.priority,
    data: valid.data,
    collapseKey: null,
    category: valid.category,
    createdAt: now,
    expiresAt: valid.expiresAt,
    notification: valid.notification,
  };
  let offset: number;
  try {
    offset = await deps.store.publishTopic(message, topic);
  } catch (error) {
    // Published already, by an edge spool's earlier forward: the caller knows.
    if (error instanceof StoreConflict) throw error;
    throw new PushmeshError("STORE_UNAVAILABLE", "the store did not take the message; nothing was accepted", { cause: error });
  }
  try {
    await deps.engine.broadcast({
      appId,
      topic,
      offset,
      message: { messageId: message.messageId, priority: message.priority, data: valid.data, createdAt: now },
    });
  } catch (error) {
    deps.log?.("topic_broadcast_failed", { appId, topic, offset, error: String(error) });
  }
  const subscribers = await deps.store.topicSubscriberCount(appId, topic);
  return { messageId: message.messageId, topic, offset, subscribers };
}
