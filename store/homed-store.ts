// A region's Store in a mesh with a store per region. Global data — apps and keys, the operator's
// audit, the node registry and the directory of homes — is in the global database, read from this
// region's replica of it and written to its primary; everything about devices (sequences, inbox,
// messages, topics, preferences, the last mile) is in this region's home store. Registering or
// erasing a device also records it in the directory, so an edge in any region finds its home.
import type { Store } from "../core/store.ts";
import { ExpiringCache } from "./expiring-cache.ts";

/** How long an edge keeps a device's home from the directory before reading it again. */
const DIRECTORY_CACHE_MS = 5_000;

const GLOBAL = new Set<string | symbol>([
  // AppStore
  "createApp", "createApiKey", "listApiKeys", "revokeApiKey", "insertApiKey", "findApp", "listApps", "appSecret",
  "authenticate", "meshSecret", "appCorsOrigins", "setAppCorsOrigins", "corsOriginAllowedByAnyApp",
  // AuditStore
  "appendAudit", "readAudit",
  // RegistryStore
  "recordRelaySample", "relaySamples", "upsertNode", "reportNodeLoad", "setNodeDraining", "listNodes",
  // HomeDirectory (deviceHomes: below, through a cache)
  "userHomes", "setDeviceHome", "forgetDeviceHomes",
] satisfies (keyof Store)[]);

/** Home writes that insert rows naming the app: before the first, the home store adopts the app's id (registrations: below). */
const APP_WRITES = [
  "subscribeTopic", "putPreferences", "setAppFallback", "putTemplate", "putEndpoints",
  "putCredentials", "createWebhook", "setAppRetention", "writeMessage", "publishTopic", "moveIn",
] as const satisfies (keyof Store)[];

function appIdOf(name: (typeof APP_WRITES)[number], args: unknown[]): string {
  if (name === "writeMessage") return (args[0] as Parameters<Store["writeMessage"]>[0]).message.appId;
  if (name === "publishTopic" || name === "moveIn") return (args[0] as { appId: string }).appId;
  return args[0] as string;
}

export function homedStore(global: Store, home: Store, region: string): Store {
  const adopted = new Map<string, Promise<void>>();
  const adopt = (appId: string): Promise<void> => {
    let known = adopted.get(appId);
    if (!known) {
      known = home.adoptApp(appId);
      adopted.set(appId, known);
      known.catch(() => adopted.delete(appId));
    }
    return known;
  };
  const home_ = home as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const writes = Object.fromEntries(
    APP_WRITES.map((name) => [
      name,
      async (...args: unknown[]) => {
        await adopt(appIdOf(name, args));
        return home_[name]!.apply(home, args);
      },
    ]),
  ) as Partial<Store>;
  // The directory is read on every send: its answers are kept briefly. A move it has not seen yet
  // shows as "not found" at the old home, and every path that meets that catches up (`freshen`),
  // which starts the cache afresh.
  let homes = new ExpiringCache<string, string>(DIRECTORY_CACHE_MS, 100_000);
  const key = (appId: string, deviceId: string) => `${appId}\u0000${deviceId}`;
  const overrides: Partial<Store> = {
    ...writes,
    async deviceHomes(appId, deviceIds) {
      const now = Date.now();
      const known = new Map<string, string>();
      const missing = deviceIds.filter((id) => {
        const home = homes.get(key(appId, id), now);
        if (home !== undefined) known.set(id, home);
        return home === undefined;
      });
      if (missing.length === 0) return known;
      const cache = homes;
      for (const [id, home] of await global.deviceHomes(appId, missing)) {
        known.set(id, home);
        cache.set(key(appId, id), home, now);
      }
      return known;
    },
    async upsertDevice(appId, input, now) {
      await adopt(appId);
      const answer = await home.upsertDevice(appId, input, now);
      const { device } = answer;
      await global.setDeviceHome(appId, input.deviceId, device.home ?? region, device.userId, now);
      return answer;
    },
    async registerDevices(appId, deviceIds, now = Date.now()) {
      await adopt(appId);
      const created = await home.registerDevices(appId, deviceIds, now);
      const known = await global.deviceHomes(appId, deviceIds);
      for (const id of deviceIds) if (!known.has(id)) await global.setDeviceHome(appId, id, region, undefined, now);
      return created;
    },
    async eraseDevices(appId, deviceIds) {
      const erased = await home.eraseDevices(appId, deviceIds);
      await global.forgetDeviceHomes(appId, erased.deviceIds);
      return erased;
    },
    async freshen() {
      homes = new ExpiringCache<string, string>(DIRECTORY_CACHE_MS, 100_000);
      await Promise.all([global.freshen(), home.freshen()]);
      // The cache was let go, whatever the replicas brought: a read now may answer otherwise.
      return true;
    },
    close() {
      global.close();
      home.close();
    },
  };
  // Each method bound once, not on every call (the relay's and the send path's calls come through here).
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(home, {
    get(target, prop) {
      const own = overrides[prop as keyof Store];
      if (own) return own;
      if (bound.has(prop)) return bound.get(prop);
      const owner = GLOBAL.has(prop) ? global : target;
      const value = Reflect.get(owner, prop, owner) as unknown;
      if (typeof value !== "function") return value;
      const method = value.bind(owner);
      bound.set(prop, method);
      return method;
    },
  });
}
