// CORS for the routes a browser page calls as a device. A preflight carries no API key, so it is
// answered for an origin some app allows (or the mesh-wide `corsOrigins`); the actual request's
// answer carries Access-Control-Allow-Origin only when the key's own app allows the origin (routes
// that take a key) or `corsOrigins` does (routes that take none). A disallowed origin gets no CORS
// headers at all, so the browser keeps the answer from the page. Runs before the 405 check, which
// would otherwise refuse OPTIONS.
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../core/config.ts";
import type { Store } from "../core/store.ts";
import { identify, type EdgeEnv } from "./env.ts";
import type { RouteTable } from "./route-table.ts";

/** Device-facing paths, and whether each takes an API key. */
const CORS_PATHS: Record<string, { keyed: boolean }> = {
  "/": { keyed: false },
  "/v1/nodes": { keyed: false },
  "/sdk/browser.js": { keyed: false },
  "/v1/devices": { keyed: true },
};
/** The request headers a page may send. */
const ALLOWED_HEADERS = ["authorization", "content-type"];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function corsPaths(): string[] {
  return Object.keys(CORS_PATHS);
}

const listed = (origins: readonly string[], origin: string) => origins.includes(origin) || origins.includes("*");

export function cors(deps: { store: Store; config: Pick<Config, "corsOrigins"> }, routes: RouteTable): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const path = CORS_PATHS[c.req.path];
    const origin = c.req.header("origin");
    if (!path) return next();
    const preflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (preflight) {
      c.header("Vary", "Origin");
      const allowed = origin !== undefined && (listed(deps.config.corsOrigins, origin) || (path.keyed && (await deps.store.corsOriginAllowedByAnyApp(origin))));
      if (allowed) {
        c.header("Access-Control-Allow-Origin", origin);
        c.header("Access-Control-Allow-Methods", routes.allowed(c.req.path).join(", "));
        c.header("Access-Control-Allow-Headers", ALLOWED_HEADERS.join(", "));
        c.header("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return c.body(null, 204);
    }
    await next();
    // A forwarded answer already says so.
    if (!(c.res.headers.get("Vary") ?? "").split(/,\s*/).includes("Origin")) c.header("Vary", "Origin", { append: true });
    if (origin !== undefined && (await allowsActual(c, deps, path.keyed, origin))) c.header("Access-Control-Allow-Origin", origin);
  };
}

async function allowsActual(c: Context<EdgeEnv>, deps: { store: Store; config: Pick<Config, "corsOrigins"> }, keyed: boolean, origin: string): Promise<boolean> {
  if (!keyed) return listed(deps.config.corsOrigins, origin);
  const identity = await identify(c, deps.store).catch(() => null);
  return identity !== null && listed(await deps.store.appCorsOrigins(identity.appId), origin);
}
