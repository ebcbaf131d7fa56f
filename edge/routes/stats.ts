import { appStats } from "../../core/tracking.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { apiRoute } from "../route-docs.ts";
import { StatsQuerySchema, StatsSchema, statsRange } from "../schemas-ops.ts";

const stats = apiRoute({
  method: "get",
  path: "/v1/stats",
  summary: "The app's figures for the messages it sent in [from, to): targets by state, suppressions by reason, delivery latency",
  description: "`from` must come before `to`, at most 366 days before it (400 otherwise).",
  scope: "read",
  request: { query: StatsQuerySchema },
  responses: { 200: { description: "The figures", content: { "application/json": { schema: StatsSchema } } } },
});

export function statsRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("GET", "/v1/stats", requireScope(deps.store, "read"));
  app.openapi(stats, async (c) => {
    const { appId } = c.get("identity");
    const now = Date.now();
    // The query's schema has refused a range that is empty or too long.
    const { from, to } = statsRange(c.req.valid("query"), now);
    return c.json({ appId, ...(await appStats(deps.store, appId, from, to, now)) }, 200);
  });
  return app;
}
