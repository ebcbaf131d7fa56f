// An edge in a region far from the store's primary hands every write to the edge beside the
// primary. Served here, a send pays a trip between regions for each store write and engine call
// (rate limit, quota, the write, presence, the signal): about five. Forwarded, it pays one, and
// the home edge does the rest next to the primary and the engine. Reads (GET, HEAD) stay here on
// the local replica: node lists for devices must answer fast, and tracking may lag a little.
//
// Sends, on an edge with a spool, are not proxied: they go as hand-overs (core/send/hand-over.ts),
// under a message id this edge gives them, so one whose hand-over fails in any way is kept and
// handed over again without being written twice. Other writes are proxied; a failure there may
// have landed, and is 503 FORWARD_FAILED.
import type { MiddlewareHandler } from "hono";
import { proxy } from "hono/proxy";
import { PushmeshError } from "../core/errors.ts";
import type { EdgeDeps, EdgeEnv } from "./env.ts";

/** Set on a forwarded request: the receiving edge serves it even if it forwards writes itself, so no request loops. */
export const FORWARDED_BY = "x-pushmesh-forwarded-by";

const SENDS = new Set(["/v1/messages", "/v1/messages/batch"]);

export function forwardWrites(deps: EdgeDeps): MiddlewareHandler<EdgeEnv> {
  const target = deps.config.forwardWritesTo;
  return async (c, next) => {
    if (!target || c.req.method === "GET" || c.req.method === "HEAD" || c.req.header(FORWARDED_BY) !== undefined) return next();
    const url = new URL(c.req.url);
    if (deps.spool && deps.handOver && c.req.method === "POST" && SENDS.has(url.pathname)) {
      c.set("handOverTo", target);
      return next();
    }
    const to = new URL(`${url.pathname}${url.search}`, target);
    try {
      return await proxy(to, {
        raw: c.req.raw,
        headers: { ...c.req.header(), host: to.host, [FORWARDED_BY]: deps.config.nodeId },
        signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(deps.config.forwardTimeoutMs)]),
      });
    } catch (cause) {
      deps.log?.("forward_failed", { path: c.req.path, to: to.origin, error: String(cause) });
      throw new PushmeshError("FORWARD_FAILED", `${to.origin} did not answer; retry, with the same idempotencyKey for sends`, { cause });
    }
  };
}
