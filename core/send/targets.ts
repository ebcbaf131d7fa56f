// Route: the devices a send names, each with its owner's preferences. A user resolves to its
// devices; unknown devices fail the whole send before anything is written.
import { deviceNotFound, PushmeshError } from "../errors.ts";
import type { Store, TargetDevice } from "../store.ts";
import type { DeviceTarget } from "./request.ts";

/** The devices a target names, deduplicated and within the per-send limit. */
export async function resolveDeviceIds(store: Store, appId: string, to: DeviceTarget, maxTargets: number): Promise<string[]> {
  let deviceIds: string[];
  if ("deviceId" in to) deviceIds = [to.deviceId];
  else if ("deviceIds" in to) deviceIds = [...new Set(to.deviceIds)];
  else {
    deviceIds = await store.devicesOfUser(appId, to.userId);
    if (deviceIds.length === 0) throw new PushmeshError("USER_NOT_FOUND", `user ${to.userId} has no registered device`);
  }
  if (deviceIds.length === 0) throw new PushmeshError("INVALID_REQUEST", "no target devices");
  if (deviceIds.length > maxTargets) throw new PushmeshError("INVALID_REQUEST", `at most ${maxTargets} devices per send`);
  return deviceIds;
}

/**
 * Each device with its effective preferences; `known` holds targets read already (a batch reads
 * all its devices at once). DEVICE_NOT_FOUND names every id that is not a device of the app.
 */
export async function loadTargetDevices(store: Store, appId: string, deviceIds: string[], known?: Map<string, TargetDevice>): Promise<TargetDevice[]> {
  let targets = known ? deviceIds.flatMap((id) => known.get(id) ?? []) : await store.loadTargets(appId, deviceIds);
  if (known && targets.length !== deviceIds.length) targets = await store.loadTargets(appId, deviceIds);
  // A device registered a moment ago at another edge may not be in this process's replica yet.
  if (targets.length !== deviceIds.length && (await store.freshen())) targets = await store.loadTargets(appId, deviceIds);
  if (targets.length !== deviceIds.length) {
    const found = new Set(targets.map((t) => t.deviceId));
    const missing = deviceIds.filter((d) => !found.has(d));
    throw deviceNotFound(missing);
  }
  return targets;
}

/** The device targets of many sends, read in one query: what a batch's items look up. */
export async function loadManyTargets(store: Store, appId: string, tos: DeviceTarget[], maxTargets: number): Promise<Map<string, TargetDevice>> {
  const ids = new Set<string>();
  for (const to of tos) {
    if ("deviceId" in to) ids.add(to.deviceId);
    else if ("deviceIds" in to && to.deviceIds.length <= maxTargets) for (const id of to.deviceIds) ids.add(id);
  }
  const targets = ids.size === 0 ? [] : await store.loadTargets(appId, [...ids]);
  return new Map(targets.map((t) => [t.deviceId, t]));
}
