// The app's retention (admin scope): how long settled rows and topic streams are kept before the
// purge (core/retention.ts) removes them. Null fields follow the mesh's defaults (config).
import { z } from "@hono/zod-openapi";
import type { AppRetention } from "../../core/retention.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { integer, object, orNull } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const YEARS_10 = 10 * 365 * 24 * 3600;
const fields = {
  settledSeconds: orNull(integer(60, YEARS_10)).openapi({
    description: "Delivered, expired, collapsed, suppressed and failed inbox rows, settled waiting targets and messages nobody references are purged after this long; null: the mesh's default",
  }),
  topicSeconds: orNull(integer(60, YEARS_10)).openapi({ description: "Topic stream entries older than this are purged once no subscriber waits for them (or they expired); null: the default" }),
  topicMaxEntries: orNull(integer(1, 100_000_000)).openapi({ description: "Topic stream entries beyond this many newest per topic are purged under the same condition; null: the default" }),
};
const OwnRetentionSchema = object(fields).openapi("AppRetention");
const RetentionSchema = object({
  own: OwnRetentionSchema,
  effective: object({ settledSeconds: z.number().int(), topicSeconds: z.number().int(), topicMaxEntries: z.number().int() }).openapi({
    description: "What the purge applies: the app's own value, or the mesh's default where it has none",
  }),
}).openapi("Retention");
const answer = { content: { "application/json": { schema: RetentionSchema } } };

const read = apiRoute({
  method: "get",
  path: "/v1/app/retention",
  summary: "How long this app's settled rows and topic streams are kept (admin scope)",
  scope: "admin",
  responses: { 200: { description: "The app's own retention and what applies", ...answer } },
});

const replace = apiRoute({
  method: "put",
  path: "/v1/app/retention",
  summary: "Set how long this app's settled rows and topic streams are kept (admin scope)",
  description: "Undelivered messages within their TTL are never purged, whatever is set here.",
  scope: "admin",
  request: { body: { required: true, content: { "application/json": { schema: OwnRetentionSchema } } } },
  responses: { 200: { description: "The retention as now stored, and what applies", ...answer } },
});

export function retentionRoutes(deps: EdgeDeps) {
  const { store, config } = deps;
  const describe = (own: AppRetention) => ({
    own,
    effective: {
      settledSeconds: own.settledSeconds ?? config.retentionSettledSeconds,
      topicSeconds: own.topicSeconds ?? config.retentionTopicSeconds,
      topicMaxEntries: own.topicMaxEntries ?? config.retentionTopicMaxEntries,
    },
  });
  const app = newRouter();
  app.on(["GET", "PUT"], "/v1/app/retention", requireScope(store, "admin"));
  app.openapi(read, async (c) => c.json(describe(await store.appRetention(c.get("identity").appId)), 200));
  app.openapi(replace, async (c) => {
    const { appId } = c.get("identity");
    const own = c.req.valid("json");
    await store.setAppRetention(appId, own);
    await audit(deps, c, "app.retention_changed", appId, own);
    return c.json(describe(await store.appRetention(appId)), 200);
  });
  return app;
}
