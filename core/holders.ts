// Reaching the node that holds a device's live session: for the signals that end or change a
// session from the HTTP side (an erase, a token revocation).
import { deviceKey, type Engine, type Signal } from "./engine.ts";

/** Publishes `signalFor(deviceId)` to the node holding each device that has a live session. */
export async function signalHolders(engine: Engine, appId: string, deviceIds: string[], signalFor: (deviceId: string) => Signal): Promise<number> {
  const presences = await engine.getPresence(deviceIds.map((d) => deviceKey(appId, d)));
  const byNode = new Map<string, Signal[]>();
  presences.forEach((presence, i) => {
    if (!presence) return;
    const list = byNode.get(presence.nodeId) ?? [];
    list.push(signalFor(deviceIds[i]!));
    byNode.set(presence.nodeId, list);
  });
  await Promise.all([...byNode].map(([nodeId, signals]) => engine.publish(nodeId, signals)));
  return [...byNode.values()].reduce((n, list) => n + list.length, 0);
}
