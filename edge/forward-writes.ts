// An edge in a region far from the store's primary hands every write to the edge beside the
// primary. Served here, a send pays a trip between regions for each store write and engine call
// (rate limit, quota, the write, presence, the signal): about five. Forwarded, it pays one, and
// the home edge does the rest next to the primary and the engine. Reads (GET, HEAD) stay here on
// the local replica: node lists for devices must answer fast, and tracking may lag a little.
//
// A send this edge cannot forward because the other edge refused the connection (nothing reached
// it) is kept in this edge's spool, answered 202 "queued", and handed over later through
// POST /v1/handover. While the spool holds such sends, later sends join them rather than overtake
// them. Any other failure may have landed, and is 503 FORWARD_FAILED as before.
import type { MiddlewareHandler } from "hono";
import { proxy } from "hono/proxy";
import { PushmeshError } from "../core/errors.ts";
import type { EdgeDeps, EdgeEnv } from "./env.ts";

/** Set on a forwarded request: the receiving edge serves it even if it forwards writes itself, so no request loops. */
export const FORWARDED_BY = "x-pushmesh-forwarded-by";

const SENDS = new Set(["/v1/messages", "/v1/messages/batch"]);

/** The connection was refused or could not be made: the request never reached the other edge. */
export function neverReached(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/ECONNREFUSED|Unable to connect|Connection refused|ConnectionRefused/i.test(`${e.message} ${(e as { code?: unknown }).code ?? ""}`)) return true;
  }
  return false;
}

export function forwardWrites(deps: EdgeDeps): MiddlewareHandler<EdgeEnv> {
  const target = deps.config.forwardWritesTo;
  return async (c, next) => {
    if (!target || c.req.method === "GET" || c.req.method === "HEAD" || c.req.header(FORWARDED_BY) !== undefined) return next();
    const url = new URL(c.req.url);
    const spoolable = deps.spool !== undefined && c.req.method === "POST" && SENDS.has(url.pathname);
    if (spoolable && deps.spool!.size().entries > 0) {
      c.set("handOverTo", target);
      return next();
    }
    const to = new URL(`${url.pathname}${url.search}`, target);
    // The body is read once here, so that a send the other edge never got can still be served.
    const body = spoolable ? await c.req.raw.clone().arrayBuffer() : undefined;
    try {
      return await proxy(to, {
        ...(body === undefined ? { raw: c.req.raw } : { method: c.req.method, body }),
        headers: { ...c.req.header(), host: to.host, [FORWARDED_BY]: deps.config.nodeId },
        signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(deps.config.forwardTimeoutMs)]),
      });
    } catch (cause) {
      deps.log?.("forward_failed", { path: c.req.path, to: to.origin, error: String(cause) });
      if (spoolable && neverReached(cause)) {
        c.set("handOverTo", target);
        return next();
      }
      throw new PushmeshError("FORWARD_FAILED", `${to.origin} did not answer; retry, with the same idempotencyKey for sends`, { cause });
    }
  };
}
