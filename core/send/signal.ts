// Signal: after the durable write, tell the nodes holding the devices. A lost signal costs latency
// only: every heartbeat answer carries the latest sequence and the relay pushes the gap.
import { deviceKey, type Engine, type Signal, type SignalledMessage } from "../engine.ts";
import type { Log } from "../log.ts";
import type { Assigned, NewMessage } from "../store.ts";

/** Up to this many devices, a send's signals go by `Engine.signalHolders` (one round trip). */
const ONE_STEP_DEVICES = 4;

/**
 * Signals the holders of the written devices; a row a later message of its group collapsed is never
 * pushed, so not signalled. Answers the devices no node holds (none when the engine could not say).
 */
export async function signalHolders(engine: Engine, message: NewMessage, written: Assigned[], log?: Log): Promise<string[]> {
  const assigned = written.some((a) => a.collapsed) ? written.filter((a) => !a.collapsed) : written;
  const absent: string[] = [];
  // A body that cannot become a frame is not signalled: the relay meets it in the store and marks it failed.
  if (assigned.length === 0 || !(message.data instanceof Uint8Array)) return absent;
  const { appId } = message;
  try {
    const pushed: Omit<SignalledMessage, "seq"> = {
      messageId: message.messageId,
      priority: message.priority,
      data: message.data,
      collapseKey: message.collapseKey,
      createdAt: message.createdAt,
      expiresAt: message.expiresAt,
    };
    // A few devices: found and signalled in one step. More: looked up at once, and the message's
    // bytes travel once per node rather than once per device.
    if (assigned.length <= ONE_STEP_DEVICES) {
      const held = await engine.signalHolders(assigned.map(({ deviceId, seq }) => ({ kind: "deliver", appId, deviceId, message: { ...pushed, seq } })));
      return assigned.filter((_, i) => !held[i]).map((a) => a.deviceId);
    }
    const presences = await engine.getPresence(assigned.map((a) => deviceKey(appId, a.deviceId)));
    const byNode = new Map<string, Signal[]>();
    presences.forEach((presence, i) => {
      const { deviceId, seq } = assigned[i]!;
      if (!presence) return void absent.push(deviceId);
      let list = byNode.get(presence.nodeId);
      if (!list) byNode.set(presence.nodeId, (list = []));
      list.push({ kind: "deliver", appId, deviceId, message: { ...pushed, seq } });
    });
    await Promise.all([...byNode].map(([nodeId, signals]) => engine.publish(nodeId, signals)));
  } catch (error) {
    // The message is already durable; the device's next heartbeat closes the gap.
    log?.("signal_failed", { appId, error: String(error) });
    return [];
  }
  return absent;
}

/** Tells the nodes holding devices that they were (un)subscribed over HTTP; startOffset null: unsubscribed. */
export async function signalSubscriptions(
  engine: Engine,
  appId: string,
  topic: string,
  deviceIds: string[],
  startOffset: number | null,
  log?: Log,
): Promise<void> {
  try {
    const presences = await engine.getPresence(deviceIds.map((d) => deviceKey(appId, d)));
    const byNode = new Map<string, Signal[]>();
    presences.forEach((presence, i) => {
      if (!presence) return;
      const list = byNode.get(presence.nodeId) ?? [];
      list.push({ kind: "subscription", appId, deviceId: deviceIds[i]!, topic, startOffset });
      byNode.set(presence.nodeId, list);
    });
    await Promise.all([...byNode].map(([nodeId, signals]) => engine.publish(nodeId, signals)));
  } catch (error) {
    // Stored already: the device picks the change up when it next connects.
    log?.("subscription_signal_failed", { appId, topic, error: String(error) });
  }
}
