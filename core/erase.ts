// Erasing a device or a user: the store removes every row that names them (store/erase.ts), then
// the node holding a live session of an erased device ends it (DEVICE_UNKNOWN): a deleted device
// must not go on receiving. Revoking a device's tokens ends its session the same way (TOKEN_REVOKED).
import type { Engine } from "./engine.ts";
import { signalHolders } from "./holders.ts";
import type { Log } from "./log.ts";
import type { ErasedCounts, Store } from "./store.ts";

type Deps = { store: Store; engine: Engine; log?: Log };

export async function eraseDevices(deps: Deps, appId: string, deviceIds: string[]): Promise<ErasedCounts> {
  const erased = await deps.store.eraseDevices(appId, deviceIds);
  if (erased.deviceIds.length === 0) return erased;
  try {
    await signalHolders(deps.engine, appId, erased.deviceIds, (deviceId) => ({ kind: "erased", appId, deviceId }));
  } catch (error) {
    // The rows are gone: a session left open finds no inbox and its next HELLO is refused.
    deps.log?.("erase_signal_failed", { appId, error: String(error) });
  }
  return erased;
}

/** Refuses every token of the device issued up to now; null when there is no such device. */
export async function revokeDeviceTokens(deps: Deps, appId: string, deviceId: string, now: number): Promise<{ revokedAt: number; sessionEnded: boolean } | null> {
  if (!(await deps.store.revokeDeviceTokens(appId, deviceId, now))) return null;
  try {
    const ended = await signalHolders(deps.engine, appId, [deviceId], () => ({ kind: "revoked", appId, deviceId, revokedAt: now }));
    return { revokedAt: now, sessionEnded: ended > 0 };
  } catch (error) {
    // The revocation is stored: the session's next HELLO is refused; until then it stays open.
    deps.log?.("revoke_signal_failed", { appId, error: String(error) });
    return { revokedAt: now, sessionEnded: false };
  }
}
