// Topic sends: the message is stored once in the topic's stream with the next offset, then every
// node fans it out to its subscribed connections. A lost broadcast costs latency only: devices
// resume each topic from their last offset when they reconnect.
import { encodeValue } from "./codec.ts";
import type { Config } from "./config.ts";
import { deviceKey, type Engine, type Signal } from "./engine.ts";
import { PushmeshError } from "./errors.ts";
import { uuidv7 } from "./ids.ts";
import type { Log } from "./log.ts";
import { Priority, type PriorityName, TOPIC_PATTERN } from "./protocol.ts";
import type { Store } from "../store/libsql-store.ts";

export type TopicSendRequest = { data: unknown; priority?: PriorityName; ttl?: number; category?: string };
export type TopicSendResult = { messageId: string; topic: string; offset: number };

export type TopicDeps = {
  store: Store;
  engine: Engine;
  config: Pick<Config, "maxPayloadBytes">;
  log?: Log;
};

/**
 * Subscribes (startOffset from the store) or unsubscribes devices, and tells the nodes holding any
 * of them, so a connected device starts or stops at once rather than at its next connection.
 */
export async function changeSubscriptions(
  deps: TopicDeps,
  appId: string,
  topic: string,
  deviceIds: string[],
  subscribe: boolean,
): Promise<number> {
  checkTopic(topic);
  let startOffset: number | null = null;
  if (subscribe) {
    await deps.store.requireDevices(appId, deviceIds);
    startOffset = await deps.store.topics.subscribe(appId, topic, deviceIds);
  } else {
    await deps.store.topics.unsubscribe(appId, topic, deviceIds);
  }
  try {
    const presences = await deps.engine.getPresence(deviceIds.map((d) => deviceKey(appId, d)));
    const byNode = new Map<string, Signal[]>();
    presences.forEach((presence, i) => {
      if (!presence) return;
      const list = byNode.get(presence.nodeId) ?? [];
      list.push({ kind: "subscription", appId, deviceId: deviceIds[i]!, topic, startOffset });
      byNode.set(presence.nodeId, list);
    });
    await Promise.all([...byNode].map(([nodeId, signals]) => deps.engine.publish(nodeId, signals)));
  } catch (error) {
    // Stored already: the device picks the change up when it next connects.
    deps.log?.("subscription_signal_failed", { appId, topic, error: String(error) });
  }
  return startOffset ?? (await deps.store.topics.latestOffset(appId, topic));
}

export function checkTopic(topic: string): void {
  if (!TOPIC_PATTERN.test(topic)) throw new PushmeshError("INVALID_REQUEST", "topic names are 1-128 of [A-Za-z0-9._:-]");
}

export async function publishToTopic(
  deps: TopicDeps,
  appId: string,
  topic: string,
  request: TopicSendRequest,
  now = Date.now(),
): Promise<TopicSendResult> {
  checkTopic(topic);
  const data = JSON.stringify(request.data ?? null);
  const size = Math.max(new TextEncoder().encode(data).length, encodeValue(request.data ?? null).length);
  if (size > deps.config.maxPayloadBytes) {
    throw new PushmeshError("PAYLOAD_TOO_LARGE", `data is ${size} bytes; the limit is ${deps.config.maxPayloadBytes}`);
  }
  const messageId = uuidv7(now);
  const priority = Priority[request.priority ?? "normal"];
  const expiresAt = request.ttl === undefined ? null : now + request.ttl * 1000;
  let offset: number;
  try {
    offset = await deps.store.topics.publish(
      { appId, messageId, priority, data, collapseKey: null, category: request.category ?? null, createdAt: now, expiresAt },
      topic,
    );
  } catch (error) {
    throw new PushmeshError("STORE_UNAVAILABLE", "the store did not take the message; nothing was accepted", { cause: error });
  }
  try {
    await deps.engine.broadcast({ appId, topic, offset, message: { messageId, priority, data: request.data ?? null, createdAt: now } });
  } catch (error) {
    deps.log?.("topic_broadcast_failed", { appId, topic, offset, error: String(error) });
  }
  return { messageId, topic, offset };
}
