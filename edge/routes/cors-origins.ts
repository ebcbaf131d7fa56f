// The app's allowed browser origins (admin scope): which pages may call its device-facing routes
// with one of its keys (edge/cors.ts).
import { z } from "@hono/zod-openapi";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { object, rule } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const MAX_ORIGINS = 50;
const originRule = rule("must be an origin, scheme://host[:port] with http or https and no path (at most 256 characters), or *");
const OriginSchema = z
  .string(originRule)
  .max(256, originRule)
  .regex(/^(\*|https?:\/\/[A-Za-z0-9.\-\[\]:]+)$/, originRule)
  .openapi({ example: "https://app.example.com" });
const listRule = rule(`must be a list of at most ${MAX_ORIGINS} origins`);
const CorsOriginsSchema = object({
  origins: z.array(OriginSchema, listRule).max(MAX_ORIGINS, listRule).openapi({ description: "Replaces the list; [] allows none, [\"*\"] any" }),
}).openapi("CorsOrigins");
const json = { content: { "application/json": { schema: CorsOriginsSchema } } };

const read = apiRoute({
  method: "get",
  path: "/v1/app/cors",
  summary: "The origins whose pages may call the device-facing routes with this app's keys (admin scope)",
  scope: "admin",
  responses: { 200: { description: "The allowed origins, sorted", ...json } },
});

const replace = apiRoute({
  method: "put",
  path: "/v1/app/cors",
  summary: "Set the origins whose pages may call the device-facing routes with this app's keys (admin scope)",
  scope: "admin",
  request: { body: { required: true, ...json } },
  responses: { 200: { description: "The allowed origins as now stored, sorted", ...json } },
});

export function corsOriginRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const app = newRouter();
  app.on(["GET", "PUT"], "/v1/app/cors", requireScope(store, "admin"));
  app.openapi(read, async (c) => c.json({ origins: await store.appCorsOrigins(c.get("identity").appId) }, 200));
  app.openapi(replace, async (c) => {
    const { appId } = c.get("identity");
    await store.setAppCorsOrigins(appId, c.req.valid("json").origins);
    return c.json({ origins: await store.appCorsOrigins(appId) }, 200);
  });
  return app;
}
