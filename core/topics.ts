// Topic subscriptions made over HTTP: stored with the offset each starts after, then the nodes
// holding the devices are told so a connected device starts or stops at once. Publishing to a
// topic is part of the send path (core/send/topic.ts).
import type { Engine } from "./engine.ts";
import { PushmeshError } from "./errors.ts";
import type { Log } from "./log.ts";
import { TOPIC_PATTERN } from "./protocol.ts";
import { signalSubscriptions } from "./send/signal.ts";
import type { Store } from "./store.ts";

export type TopicDeps = { store: Store; engine: Engine; log?: Log };

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
    startOffset = await deps.store.subscribeTopic(appId, topic, deviceIds);
  } else {
    await deps.store.unsubscribeTopic(appId, topic, deviceIds);
  }
  await signalSubscriptions(deps.engine, appId, topic, deviceIds, startOffset, deps.log);
  return startOffset ?? (await deps.store.topicOffset(appId, topic));
}

export function checkTopic(topic: string): void {
  if (!TOPIC_PATTERN.test(topic)) throw new PushmeshError("INVALID_REQUEST", "topic names are 1-128 of [A-Za-z0-9._:-]");
}
