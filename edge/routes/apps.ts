// The apps of the mesh, for operators: list them and make new ones. The operator credential is
// not an app key and never acts for an app; a new app's first key is its admin key.
import { z } from "@hono/zod-openapi";
import { appStats } from "../../core/tracking.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireOperator } from "../env.ts";
import { object, printable } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";
import { StatsQuerySchema, StatsSchema, statsRange } from "../schemas-ops.ts";

const AppSchema = z.object({ appId: z.string(), name: z.string(), createdAt: z.number().int() }).openapi("App");
const NewAppSchema = AppSchema.extend({
  apiKey: z.string().openapi({ description: "The app's first key, with every scope: shown here once" }),
}).openapi("NewApp");

const list = apiRoute({
  method: "get",
  path: "/v1/apps",
  summary: "Every app of the mesh (operator credential)",
  operator: true,
  responses: { 200: { description: "The apps, oldest first", content: { "application/json": { schema: z.object({ apps: z.array(AppSchema) }) } } } },
});

const stats = apiRoute({
  method: "get",
  path: "/v1/apps/stats",
  summary: "Every app's figures for the messages it sent in [from, to), as GET /v1/stats gives one app's (operator credential)",
  description: "For the dashboard's app list. `from` must come before `to`, at most 366 days before it (400 otherwise).",
  operator: true,
  request: { query: StatsQuerySchema },
  responses: {
    200: {
      description: "One entry per app, oldest app first",
      content: { "application/json": { schema: z.object({ from: z.number().int(), to: z.number().int(), apps: z.array(StatsSchema) }).openapi("AppsStats") } },
    },
  },
});

const create = apiRoute({
  method: "post",
  path: "/v1/apps",
  summary: "Make an app and its first key, with every scope (operator credential)",
  operator: true,
  request: { body: { required: true, content: { "application/json": { schema: object({ name: printable(64) }).openapi("CreateApp") } } } },
  responses: { 201: { description: "The app and its key, shown once", content: { "application/json": { schema: NewAppSchema } } } },
});

export function appRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on(["GET", "POST"], "/v1/apps", requireOperator(deps.config));
  app.on("GET", "/v1/apps/stats", requireOperator(deps.config));
  app.openapi(stats, async (c) => {
    const now = Date.now();
    const { from, to } = statsRange(c.req.valid("query"), now);
    const apps = await deps.store.listApps();
    // One aggregate read per app, in turn: a console's list, not a hot path.
    const figures = [];
    for (const a of apps) figures.push({ appId: a.id, ...(await appStats(deps.store, a.id, from, to, now)) });
    return c.json({ from, to, apps: figures }, 200);
  });
  app.openapi(list, async (c) => {
    const apps = await deps.store.listApps();
    return c.json({ apps: apps.map((a) => ({ appId: a.id, name: a.name, createdAt: a.createdAt })) }, 200);
  });
  app.openapi(create, async (c) => {
    const { name } = c.req.valid("json");
    const now = Date.now();
    const { appId, apiKey } = await deps.store.createApp(name, now);
    deps.log?.("app_created", { appId, name });
    await audit(deps, c, "app.created", appId, { name });
    return c.json({ appId, name, createdAt: now, apiKey }, 201);
  });
  return app;
}
