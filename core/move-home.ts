// Moving a device's home (PUT /v1/devices/{id}/home), run by the edge of its current home. The old
// home seals the device (its sends, HELLOs and acks here find no device) and reads what goes with
// it; the new home's edge writes all of it in one transaction, then points the directory there;
// only then does the old home let go of what it kept, and the device's live session is sent to
// the new home's relays. A failure before the new home answered leaves the device sealed here:
// the same request again resumes the move, and the new home's write is idempotent, so nothing is
// lost or doubled. A definite refusal from the new home unseals it. Sends made meanwhile find no
// device at the old home and are retried by the edge that split them (core/send/by-home.ts).
import type { Engine } from "./engine.ts";
import { deviceNotFound, PushmeshError } from "./errors.ts";
import { signalHolders } from "./holders.ts";
import type { Log } from "./log.ts";
import type { DeviceMove, Store } from "./store.ts";

export type MoveHomeDeps = {
  store: Pick<Store, "sealDevice" | "unsealDevice" | "finishMoveOut" | "getDevice">;
  engine: Engine;
  region: string;
  /** Every home of the mesh, this one too. */
  homes: string[];
  /** Resolves once the new home holds the device; a `MoveRefused` is its definite no. */
  handDevice(home: string, move: DeviceMove): Promise<void>;
  log?: Log;
};

/** The new home answered the move with an error: nothing was written there. */
export class MoveRefused extends Error {
  constructor(readonly error: PushmeshError) {
    super(error.message);
  }
}

export type MovedHome = { deviceId: string; home: string; from: string; messages: number };

export async function moveHome(deps: MoveHomeDeps, appId: string, deviceId: string, to: string): Promise<MovedHome> {
  if (!deps.homes.includes(to)) {
    throw new PushmeshError("INVALID_REQUEST", `home must be one of this mesh's regions: ${deps.homes.join(", ")}`, { details: [{ path: "home", message: `no region '${to}'` }] });
  }
  if (to === deps.region) {
    if (!(await deps.store.getDevice(appId, deviceId))) throw deviceNotFound([deviceId]);
    return { deviceId, home: to, from: to, messages: 0 };
  }
  const move = await deps.store.sealDevice(appId, deviceId, to);
  if (!move) throw deviceNotFound([deviceId]);
  try {
    await deps.handDevice(to, move);
  } catch (error) {
    if (error instanceof MoveRefused) {
      await deps.store.unsealDevice(appId, deviceId);
      throw error.error;
    }
    deps.log?.("move_unconfirmed", { appId, deviceId, to, error: String(error) });
    throw new PushmeshError("FORWARD_FAILED", `home '${to}' did not confirm it holds the device; the device waits, sealed, until the same request is made again`, { cause: error });
  }
  await deps.store.finishMoveOut(appId, deviceId);
  // Its live session, if any, goes to the new home's relays (core/relay/relay.ts closeErased).
  await signalHolders(deps.engine, appId, [deviceId], () => ({ kind: "erased", appId, deviceId })).catch((error: unknown) =>
    deps.log?.("move_signal_failed", { appId, deviceId, error: String(error) }),
  );
  return { deviceId, home: to, from: deps.region, messages: move.rows.inbox.length };
}
