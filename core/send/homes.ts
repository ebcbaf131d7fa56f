// Sends go to the home. In a mesh with a store per region, a device's messages are written in its
// home region's store and signalled by that region's engine; the edge that takes a send reads the
// directory of homes (a local replica of the global database) and splits the send by home: a part
// per home, each written atomically there. A topic's subscribers live in every home, so a topic
// send goes to each. Every part carries the same message id, so tracking and a repeated
// idempotency key see one message.
import { deviceNotFound } from "../errors.ts";
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
  const ids = [...new Set(namedDevices(request)!)];
  const byHome = groupByHome(ids, await homesOf(routing, appId, ids));
  if (byHome.size === 1) return [{ home: byHome.keys().next().value!, request }];
  return [...byHome].map(([home, deviceIds]) => ({ home, request: { ...request, to: { deviceIds } } }));
}

/** The devices a send names by id; null for a user or a topic send. */
function namedDevices(request: SendRequest): string[] | null {
  const to = request.to;
  return "deviceId" in to ? [to.deviceId] : "deviceIds" in to ? to.deviceIds : null;
}

/** Ids by home, each home's in the order named. */
export function groupByHome(ids: string[], homes: Map<string, string>): Map<string, string[]> {
  const byHome = new Map<string, string[]>();
  for (const id of ids) {
    const home = homes.get(id)!;
    const list = byHome.get(home);
    if (list) list.push(id);
    else byHome.set(home, [id]);
  }
  return byHome;
}

/** The homes the directory knows of these ids, caught up once when it knows not all (one may have been registered elsewhere a moment ago). */
export async function knownHomes(directory: HomeRouting["directory"], appId: string, ids: string[]): Promise<Map<string, string>> {
  const homes = await directory.deviceHomes(appId, ids);
  if (ids.every((id) => homes.has(id)) || !(await directory.freshen())) return homes;
  return directory.deviceHomes(appId, ids);
}

/** Every id's home; one the directory does not know, even after catching up, is refused before anything is written. */
export async function homesOf(routing: Pick<HomeRouting, "directory">, appId: string, ids: string[]): Promise<Map<string, string>> {
  const homes = await knownHomes(routing.directory, appId, ids);
  const missing = [...new Set(ids.filter((id) => !homes.has(id)))];
  if (missing.length > 0) throw deviceNotFound(missing);
  return homes;
}

/**
 * Where a kept send for named devices goes now, by the directory caught up: the edge of their one
 * home, null for this region's store, undefined when they are not all known or not in one home.
 */
export async function wayOfSend(routing: HomeRouting, homeEdges: Record<string, string>, appId: string, request: SendRequest): Promise<string | null | undefined> {
  const ids = namedDevices(request);
  if (!ids) return undefined;
  await routing.directory.freshen();
  const homes = await routing.directory.deviceHomes(appId, ids);
  const named = new Set(ids.map((id) => homes.get(id)));
  const [home] = named;
  if (named.size !== 1 || home === undefined) return undefined;
  return home === routing.region ? null : homeEdges[home];
}
