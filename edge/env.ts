// What every edge route can reach: the store, the engine, the limiter, the config, and the caller's identity.
import { API_KEY_PREFIX, isOneOf, OPERATOR_KEY_PREFIX } from "../core/auth.ts";
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import type { RateLimiter } from "../core/engine.ts";
import { PushmeshError } from "../core/errors.ts";
import type { ApiKeyIdentity, Scope, Store } from "../core/store.ts";
import type { Log } from "../core/log.ts";
import type { Spool } from "../core/spool.ts";
import type { HandOver } from "../core/spool-forwarder.ts";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { EdgeMetrics } from "./metrics.ts";
import type { EdgeEnv } from "./request-context.ts";
import { validationHook } from "./validation.ts";

/** The files /dashboard/assets/ serves: uPlot's ES module and style sheet. */
export const DASHBOARD_ASSETS = { "uPlot.esm.js": "text/javascript", "uPlot.min.css": "text/css" } as const;
export type DashboardAssetName = keyof typeof DASHBOARD_ASSETS;

export type EdgeDeps = {
  store: Store;
  engine: Engine;
  config: Config;
  log?: Log;
  /** The browser SDK as one ES module (built by the host's bundler); without it, /sdk/browser.js is 404. */
  browserSdk?: () => Promise<string>;
  /** The chart library's browser files for /dashboard; without it, they are 404 and the dashboard has no charts. */
  dashboardAsset?: (name: DashboardAssetName) => Promise<string>;
  /** Per-app request rates and message quotas; without one, neither is enforced. */
  limiter?: RateLimiter;
  /** A scheduler in this process, woken when a send makes something due soon. */
  scheduler?: { wake(at: number): void };
  /** The fallback worker in this process, woken when a send's fallback falls due soon. */
  fallback?: { wake(at: number): void };
  /** Request counts and latencies, and /metrics; none: nothing is counted. */
  metrics?: EdgeMetrics;
  /** Where sends wait while the store is away (core/spool.ts); none: such a send is refused with 503. */
  spool?: Spool;
  /** A failure of the store itself, as opposed to an answer about the request: such a send is spooled. */
  isStoreOutage?: (error: unknown) => boolean;
  /** Told when a send was spooled: the forwarder starts trying. */
  onSpooled?: () => void;
  /** Hands sends to the edge this one forwards writes to (POST /v1/handover); with a spool, sends go this way instead of being proxied. */
  handOver?: HandOver;
};

export type { EdgeEnv } from "./request-context.ts";

export async function identify(c: Context<EdgeEnv>, store: Store): Promise<ApiKeyIdentity | null> {
  const known = c.get("identity") as ApiKeyIdentity | undefined;
  if (known) return known;
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match) return null;
  const identity = await store.authenticate(match[1]!);
  if (identity) c.set("identity", identity);
  return identity;
}

/** Resolves `Authorization: Bearer <apiKey>` and checks the route's scope. */
export function requireScope(store: Store, scope: Scope): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    if (!/^Bearer\s+\S+$/i.test(c.req.header("authorization") ?? "")) {
      throw new PushmeshError("UNAUTHORIZED", "send Authorization: Bearer <apiKey>");
    }
    const identity = await identify(c, store);
    if (!identity && bearer(c).startsWith(OPERATOR_KEY_PREFIX)) {
      throw new PushmeshError("UNAUTHORIZED", "the operator credential does not act for an app: send one of the app's API keys");
    }
    if (!identity) throw new PushmeshError("UNAUTHORIZED", "unknown or revoked API key");
    if (!identity.scopes.includes(scope)) throw new PushmeshError("FORBIDDEN", `this key lacks the '${scope}' scope`);
    await next();
  };
}

/** 127.0.0.0/8, ::1 and IPv4 on IPv6 loopback; an address the host did not give is not loopback. */
function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

const bearer = (c: Context): string => /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";

/**
 * The fleet routes (the node registry, drain, apps) take the operator credential configured at
 * start (`operatorKeys`), never an app's key: one app must not be able to drain the relays every
 * app shares.
 */
export function requireOperator(config: Pick<Config, "operatorKeys" | "allowPlainOperator">): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    // The credential that can drain every relay never crosses a network in the clear.
    if (!config.allowPlainOperator && c.env?.secure !== true && !isLoopback(c.env?.remoteAddress)) throw new PushmeshError("OPERATOR_TRANSPORT");
    const given = bearer(c);
    if (given === "") throw new PushmeshError("UNAUTHORIZED", "send Authorization: Bearer <operator key>");
    if (given.startsWith(API_KEY_PREFIX)) throw new PushmeshError("OPERATOR_REQUIRED");
    if (config.operatorKeys.length === 0) throw new PushmeshError("OPERATOR_REQUIRED", "this edge has no operator credential configured (--operator-keys)");
    if (!(await isOneOf(given, config.operatorKeys))) throw new PushmeshError("UNAUTHORIZED", "unknown operator key");
    await next();
  };
}

/**
 * Counts every request that carries a valid API key against its app's rate limit, before any
 * route runs; past it, 429 RATE_LIMITED with Retry-After. Requests without a key pass on (the
 * routes that need one refuse them; GET /v1/nodes needs none).
 */
export function limitAppRate(deps: EdgeDeps): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const { limiter, config } = deps;
    // A send handed over is counted where it is written, beside the engine (edge/routes/handover.ts).
    if (limiter && !c.get("handOverTo")) {
      const identity = await identify(c, deps.store);
      if (identity) {
        const refused = await overRequestRate(deps, identity.appId);
        if (refused) throw refused;
      }
    }
    await next();
  };
}

/** Counts one request against the app's rate: the RATE_LIMITED error when it is past it, else null. */
export async function overRequestRate(deps: Pick<EdgeDeps, "limiter" | "config">, appId: string): Promise<PushmeshError | null> {
  const { limiter, config } = deps;
  if (!limiter) return null;
  const decision = await limiter.take(`rate:${appId}`, 1, config.rateLimitRequests, config.rateLimitWindowSeconds * 1000);
  if (decision.allowed) return null;
  return new PushmeshError("RATE_LIMITED", `at most ${config.rateLimitRequests} requests per ${config.rateLimitWindowSeconds} s per app`, {
    details: { retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) },
  });
}

/** A router whose schema failures become INVALID_REQUEST listing every issue in plain words. */
export function newRouter() {
  return new OpenAPIHono<EdgeEnv>({ defaultHook: validationHook });
}
