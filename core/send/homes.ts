// Sends go to the home. In a mesh with a store per region, a device's messages are written in its
// home region's store and signalled by that region's engine; the edge that takes a send reads the
// directory of homes (a local replica of the global database) and splits the send by home: a part
// per home, each written atomically there. A topic's subscribers live in every home, so a topic
// send goes to each. Every part carries the same message id, so tracking and a repeated
// idempotency key see one message.
import { PushmeshError } from "../errors.ts";
import type { DeviceStore, HomeDirectory } from "../store.ts";
import type { SendRequest } from "./request.ts";

export type HomePart = { home: string; request: SendRequest };

export type HomeRouting = {
  directory: HomeDirectory & Pick<DeviceStore, "freshen">;
  /** This edge's region: its own home. */
  region: string;
  /** Every region that is a home, this one too. */
  homes: string[];
};

/** The parts of a send, one per home it reaches, in `homes` order for a topic and first-named order otherwise. */
export async function splitByHome(routing: HomeRouting, appId: string, request: SendRequest): Promise<HomePart[]> {
  const to = request.to;
  if ("topic" in to) return routing.homes.map((home) => ({ home, request }));
  if ("userId" in to) {
    let homes = await routing.directory.userHomes(appId, to.userId);
    if (homes.length === 0 && (await routing.directory.freshen())) homes = await routing.directory.userHomes(appId, to.userId);
    // A user with no devices anywhere: the home here answers as it would for any such user.
    return (homes.length > 0 ? homes : [routing.region]).map((home) => ({ home, request }));
  }
  const ids = "deviceId" in to ? [to.deviceId] : to.deviceIds;
  const homeOf = await homesOf(routing, appId, ids);
  const byHome = new Map<string, string[]>();
  for (const id of ids) {
    const home = homeOf.get(id)!;
    const list = byHome.get(home) ?? [];
    if (!list.includes(id)) list.push(id);
    byHome.set(home, list);
  }
  if (byHome.size === 1) return [{ home: byHome.keys().next().value!, request }];
  return [...byHome].map(([home, deviceIds]) => ({ home, request: { ...request, to: { deviceIds } } }));
}

/** Every id's home; one the directory does not know, even after catching up, is refused before anything is written. */
export async function homesOf(routing: Pick<HomeRouting, "directory">, appId: string, ids: string[]): Promise<Map<string, string>> {
  let homes = await routing.directory.deviceHomes(appId, ids);
  if (ids.some((id) => !homes.has(id)) && (await routing.directory.freshen())) homes = await routing.directory.deviceHomes(appId, ids);
  const missing = [...new Set(ids.filter((id) => !homes.has(id)))];
  if (missing.length > 0) throw new PushmeshError("DEVICE_NOT_FOUND", `unknown device(s): ${missing.slice(0, 10).join(", ")}`, { details: { deviceIds: missing } });
  return homes;
}

/**
 * Where a kept send for named devices goes now, by the directory caught up: the edge of their one
 * home, null for this region's store, undefined when they are not all known or not in one home.
 */
export async function wayOfSend(routing: HomeRouting, homeEdges: Record<string, string>, appId: string, request: SendRequest): Promise<string | null | undefined> {
  const to = request.to;
  if (!("deviceId" in to) && !("deviceIds" in to)) return undefined;
  const ids = "deviceId" in to ? [to.deviceId] : to.deviceIds;
  await routing.directory.freshen();
  const homes = await routing.directory.deviceHomes(appId, ids);
  const named = new Set(ids.map((id) => homes.get(id)));
  const [home] = named;
  if (named.size !== 1 || home === undefined) return undefined;
  return home === routing.region ? null : homeEdges[home];
}
