// What the edge reports to its metrics, and /metrics itself. The edge imports no runtime: the host
// (ops/mesh.ts, ops/processes.ts) passes a Prometheus implementation in (ops/edge-metrics.ts);
// without one the edge counts nothing and /metrics answers an empty exposition.
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";

export interface EdgeMetrics {
  /** One answered request: its route template (never the raw path), method, status and duration. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** The Prometheus exposition of this process. */
  scrape(): Promise<{ contentType: string; text: string }>;
}

export const noEdgeMetrics: EdgeMetrics = {
  request() {},
  scrape: async () => ({ contentType: "text/plain; version=0.0.4; charset=utf-8", text: "" }),
};

/** Times every request and counts it by the route that answered, so label values stay few. */
export function observeRequests(metrics: EdgeMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // The last matched route is the handler's; a path no route took is "unmatched".
    const route = routePath(c, -1);
    const template = route === "" || route.endsWith("*") ? "unmatched" : route.replace(/:(\w+)/g, "{$1}");
    metrics.request(template, c.req.method, c.res.status, (performance.now() - started) / 1000);
  };
}
