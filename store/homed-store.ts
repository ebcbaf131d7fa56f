// A region's Store in a mesh with a store per region. Global data — apps and keys, the operator's
// audit, the node registry and the directory of homes — is in the global database, read from this
// region's replica of it and written to its primary; everything about devices (sequences, inbox,
// messages, topics, preferences, the last mile) is in this region's home store. Registering or
// erasing a device also records it in the directory, so an edge in any region finds its home.
import type { Store } from "../core/store.ts";

const GLOBAL = new Set<string | symbol>([
  // AppStore
  "createApp", "createApiKey", "listApiKeys", "revokeApiKey", "insertApiKey", "findApp", "listApps", "appSecret",
  "authenticate", "meshSecret", "appCorsOrigins", "setAppCorsOrigins", "corsOriginAllowedByAnyApp",
  // AuditStore
  "appendAudit", "readAudit",
  // RegistryStore
  "recordRelaySample", "relaySamples", "upsertNode", "reportNodeLoad", "setNodeDraining", "listNodes",
  // HomeDirectory
  "deviceHomes", "userHomes", "setDeviceHome", "forgetDeviceHomes",
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
  const overrides: Partial<Store> = {
    ...writes,
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
      const [a, b] = await Promise.all([global.freshen(), home.freshen()]);
      return a || b;
    },
    close() {
      global.close();
      home.close();
    },
  };
  return new Proxy(home, {
    get(target, prop) {
      const own = overrides[prop as keyof Store];
      if (own) return own;
      const owner = GLOBAL.has(prop) ? global : target;
      const value = Reflect.get(owner, prop, owner) as unknown;
      return typeof value === "function" ? value.bind(owner) : value;
    },
  });
}
