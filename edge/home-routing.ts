// An edge in a mesh with a store per region (config.homeEdges): what concerns one device is served
// by the edge of the device's home, where its store is. Sends are split by home
// (core/send/by-home.ts); a request under /v1/devices/{id}, or a registration for a device homed
// elsewhere, is proxied to that home's edge; a topic subscription is split by home, each part
// proxied; a user's settings are changed in every home of the user's devices; some reads ask
// every home (askOtherHomes). The receiving edge sees FORWARDED_BY and serves the request itself,
// so none loops.
import type { MiddlewareHandler } from "hono";
import { proxy } from "hono/proxy";
import { PushmeshError } from "../core/errors.ts";
import type { HomeSendDeps } from "../core/send/by-home.ts";
import { groupByHome, homesOf, knownHomes } from "../core/send/homes.ts";
import { changeSubscriptions } from "../core/topics.ts";
import type { Context } from "hono";
import { type EdgeDeps, type EdgeEnv, identify } from "./env.ts";
import { FORWARDED_BY } from "./forward-writes.ts";

/** The deps of a send split by home; null where this edge is not part of such a mesh. */
export function homeSending(deps: EdgeDeps): HomeSendDeps | null {
  const homes = homeRegions(deps).sort();
  if (homes.length === 0 || !deps.spool || !deps.handOver) return null;
  return { ...deps, spool: deps.spool, handOver: deps.handOver, homeEdges: deps.config.homeEdges, routing: { directory: deps.store, region: deps.config.region, homes } };
}

/** The home regions of this mesh, this edge's first; empty where there is a single store. */
export function homeRegions(deps: Pick<EdgeDeps, "config">): string[] {
  const edges = deps.config.homeEdges;
  if (Object.keys(edges).length === 0) return [];
  return [...new Set([deps.config.region, ...Object.keys(edges)])];
}

const DEVICE_PATH = /^\/v1\/devices\/([^/]+)(\/.*)?$/;
const USER_SETTINGS = /^\/v1\/users\/([^/]+)\/(preferences|channels)$/;

export function routeToHome(deps: EdgeDeps): MiddlewareHandler<EdgeEnv> {
  const region = deps.config.region;
  const edges = deps.config.homeEdges;
  return async (c, next) => {
    if (c.req.header(FORWARDED_BY) !== undefined) return next();
    const path = c.req.path;
    if (USER_SETTINGS.test(path)) return userSettingsEverywhere(deps, c, next);
    const named = DEVICE_PATH.exec(path);
    let home: string | undefined;
    if (named || (path === "/v1/devices" && c.req.method === "POST")) {
      const identity = await identify(c, deps.store);
      // No key, or a wrong one: the route here refuses it as it always does.
      if (!identity) return next();
      if (named) {
        home = await homeOf(deps, identity.appId, decodeURIComponent(named[1]!));
      } else {
        const body = (await c.req.raw.clone().json().catch(() => null)) as { deviceId?: unknown; home?: unknown } | null;
        if (typeof body?.deviceId === "string") home = await homeOf(deps, identity.appId, body.deviceId);
        if (home === undefined && typeof body?.home === "string") {
          if (body.home !== region && !edges[body.home]) {
            throw new PushmeshError("INVALID_REQUEST", `home must be one of this mesh's regions: ${homeRegions(deps).join(", ")}`, {
              details: [{ path: "home", message: `no region '${body.home}'` }],
            });
          }
          home = body.home;
        }
      }
    }
    const onward = `${path}${new URL(c.req.url).search}`;
    const elsewhere = (h: string | undefined) => h !== undefined && h !== region && edges[h] !== undefined;
    if (!named) return elsewhere(home) ? proxyTo(deps, c.req.raw, edges[home!]!, onward) : next();
    // "Not found" where the directory this edge read sent it: that read may be behind a move.
    // Caught up, the directory names the home to ask; nothing was done at the first, so the request
    // goes to the other as it came.
    const retry = c.req.raw.clone();
    const deviceId = decodeURIComponent(named[1]!);
    const homeNow = async () => {
      await deps.store.freshen();
      const identity = await identify(c, deps.store);
      return identity ? (await deps.store.deviceHomes(identity.appId, [deviceId])).get(deviceId) : undefined;
    };
    if (elsewhere(home)) {
      const first = await proxyTo(deps, c.req.raw, edges[home!]!, onward);
      if (!(await isDeviceNotFound(first))) return first;
      const now = await homeNow();
      if (now === home || now === undefined) return first;
      return elsewhere(now) ? proxyTo(deps, retry, edges[now]!, onward) : next();
    }
    // Served here: once the route has run, its answer is replaced on the context, not returned.
    await next();
    if (!(await isDeviceNotFound(c.res))) return;
    const now = await homeNow();
    if (elsewhere(now)) c.res = await proxyTo(deps, retry, edges[now!]!, onward);
  };
}

async function isDeviceNotFound(res: Response): Promise<boolean> {
  return res.status === 404 && (await res.clone().json().catch(() => null))?.error?.code === "DEVICE_NOT_FOUND";
}

async function homeOf(deps: EdgeDeps, appId: string, deviceId: string): Promise<string | undefined> {
  return (await knownHomes(deps.store, appId, [deviceId])).get(deviceId);
}

/** The request as it came, served by another edge; a failure to reach it is 503 FORWARD_FAILED. */
export async function proxyTo(deps: EdgeDeps, raw: Request, edge: string, pathAndQuery: string, body?: string): Promise<Response> {
  const to = new URL(pathAndQuery, edge);
  const headers: Record<string, string> = { ...Object.fromEntries(raw.headers), host: to.host, [FORWARDED_BY]: deps.config.nodeId };
  try {
    if (body === undefined) return await proxy(to, { raw, headers, signal: AbortSignal.any([raw.signal, AbortSignal.timeout(deps.config.forwardTimeoutMs)]) });
    delete headers["content-length"];
    return await fetch(to, { method: raw.method, headers, body, signal: AbortSignal.timeout(deps.config.forwardTimeoutMs) });
  } catch (cause) {
    deps.log?.("forward_failed", { path: to.pathname, to: to.origin, error: String(cause) });
    throw new PushmeshError("FORWARD_FAILED", `${to.origin}, the device's home edge, did not answer; retry`, { cause });
  }
}

/**
 * Subscribes (or unsubscribes) devices of several homes: each home's part where its store is, every
 * id known first. Each part is idempotent, so a retry after a part failed does no harm.
 */
export async function changeSubscriptionsByHome(deps: EdgeDeps, c: Context<EdgeEnv>, appId: string, topic: string, deviceIds: string[], subscribe: boolean): Promise<number> {
  const byHome = groupByHome(deviceIds, await homesOf({ directory: deps.store }, appId, deviceIds));
  const offsets = await Promise.all(
    [...byHome].map(async ([home, ids]) => {
      const edge = deps.config.homeEdges[home];
      if (home === deps.config.region || !edge) return changeSubscriptions(deps, appId, topic, ids, subscribe);
      const res = await proxyTo(deps, c.req.raw, edge, new URL(c.req.url).pathname, JSON.stringify({ deviceIds: ids }));
      const body = (await res.json()) as { offset?: number; error?: { code: string; message: string } };
      if (res.status !== 200) throw new PushmeshError("FORWARD_FAILED", `home '${home}' answered ${res.status}: ${body.error?.message ?? ""}`);
      return body.offset ?? 0;
    }),
  );
  const here = [...byHome.keys()].indexOf(deps.config.region);
  return offsets[here >= 0 ? here : 0] ?? 0;
}

/**
 * The same request (a GET, or a DELETE with no body) made of every other home's edge, with the
 * caller's key: their answers that are 200, parsed. A home that does not answer is left out, and
 * logged: what it holds is missing then.
 */
export async function askOtherHomes<T>(deps: EdgeDeps, c: Context<EdgeEnv>): Promise<T[]> {
  if (c.req.header(FORWARDED_BY) !== undefined) return [];
  const url = new URL(c.req.url);
  const answers = await Promise.all(
    Object.entries(deps.config.homeEdges).map(async ([home, edge]) => {
      try {
        const res = await proxyTo(deps, c.req.raw, edge, `${url.pathname}${url.search}`);
        return res.status === 200 ? [(await res.json()) as T] : [];
      } catch (error) {
        deps.log?.("home_unanswered", { home, path: url.pathname, error: String(error) });
        return [];
      }
    }),
  );
  return answers.flat();
}

/**
 * A user's preferences and endpoints are read where the user's devices are: a change is made here
 * and at every other home holding one of them (each part idempotent, so a retry after a failure
 * does no harm); a read answered "not found" here is asked of those homes.
 */
async function userSettingsEverywhere(deps: EdgeDeps, c: Context<EdgeEnv>, next: () => Promise<void>): Promise<Response | void> {
  const identity = await identify(c, deps.store);
  if (!identity) return next();
  const userId = decodeURIComponent(USER_SETTINGS.exec(c.req.path)![1]!);
  const others = (await deps.store.userHomes(identity.appId, userId)).filter((h) => h !== deps.config.region && deps.config.homeEdges[h]);
  if (others.length === 0) return next();
  const onward = `${c.req.path}${new URL(c.req.url).search}`;
  const copies = others.map(() => c.req.raw.clone());
  await next();
  if (c.req.method === "GET") {
    if (c.res.status !== 404) return;
    for (const [i, home] of others.entries()) {
      const res = await proxyTo(deps, copies[i]!, deps.config.homeEdges[home]!, onward).catch(() => null);
      if (res?.status === 200) return void (c.res = res);
    }
    return;
  }
  if (c.res.status >= 300 && c.res.status !== 404) return;
  const answers = await Promise.all(others.map((home, i) => proxyTo(deps, copies[i]!, deps.config.homeEdges[home]!, onward).then((res) => ({ home, res }))));
  const failed = answers.find((a) => a.res.status >= 500);
  if (failed) throw new PushmeshError("FORWARD_FAILED", `home '${failed.home}' answered ${failed.res.status}; make the same request again`);
  // Nothing here (a delete of what this home never held): the first home that had it answers.
  if (c.res.status === 404) c.res = answers.find((a) => a.res.status < 300)?.res ?? c.res;
}
