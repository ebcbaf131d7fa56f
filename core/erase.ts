// Erasing a device or a user: the store removes every row that names them (store/erase.ts), then
// the node holding a live session of an erased device ends it (DEVICE_UNKNOWN): a deleted device
// must not go on receiving.
import { deviceKey, type Engine, type Signal } from "./engine.ts";
import type { Log } from "./log.ts";
import type { ErasedCounts, Store } from "./store.ts";

export async function eraseDevices(deps: { store: Store; engine: Engine; log?: Log }, appId: string, deviceIds: string[]): Promise<ErasedCounts> {
  const erased = await deps.store.eraseDevices(appId, deviceIds);
  if (erased.deviceIds.length === 0) return erased;
  try {
    const presences = await deps.engine.getPresence(erased.deviceIds.map((d) => deviceKey(appId, d)));
    const byNode = new Map<string, Signal[]>();
    presences.forEach((presence, i) => {
      if (!presence) return;
      const list = byNode.get(presence.nodeId) ?? [];
      list.push({ kind: "erased", appId, deviceId: erased.deviceIds[i]! });
      byNode.set(presence.nodeId, list);
    });
    await Promise.all([...byNode].map(([nodeId, signals]) => deps.engine.publish(nodeId, signals)));
  } catch (error) {
    // The rows are gone: a session left open finds no inbox and its next HELLO is refused.
    deps.log?.("erase_signal_failed", { appId, error: String(error) });
  }
  return erased;
}
