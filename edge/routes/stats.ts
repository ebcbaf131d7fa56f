import { createRoute } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { appStats } from "../../core/tracking.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { errorResponses } from "../schemas.ts";
import { StatsQuerySchema, StatsSchema } from "../schemas-ops.ts";

const DAY_MS = 24 * 3600 * 1000;
/** The longest range one request may cover; reports over longer spans add up several. */
const MAX_RANGE_MS = 366 * DAY_MS;

const stats = createRoute({
  method: "get",
  path: "/v1/stats",
  summary: "The app's figures for the messages it sent in [from, to): targets by state, suppressions by reason, delivery latency",
  security: [{ apiKey: [] }],
  request: { query: StatsQuerySchema },
  responses: { 200: { description: "The figures", content: { "application/json": { schema: StatsSchema } } }, ...errorResponses },
});

const toMs = (value: string | number | undefined): number | undefined =>
  typeof value === "string" ? Date.parse(value) : value;

export function statsRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("GET", "/v1/stats", requireScope(deps.store, "read"));
  app.openapi(stats, async (c) => {
    const { appId } = c.get("identity");
    const query = c.req.valid("query");
    const now = Date.now();
    const to = toMs(query.to) ?? now + 1;
    const from = toMs(query.from) ?? to - DAY_MS;
    if (!(from < to) || to - from > MAX_RANGE_MS) {
      throw new PushmeshError("INVALID_REQUEST", "from must be before to, at most 366 days apart");
    }
    return c.json({ appId, ...(await appStats(deps.store, appId, from, to, now)) }, 200);
  });
  return app;
}
