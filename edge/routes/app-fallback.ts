// An app's default fallback (admin scope): what a send to devices gets when it gives no
// `fallback` of its own (one with `fallback: null` gets none).
import { z } from "@hono/zod-openapi";
import type { ChannelKind } from "../../core/channels.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { object, orNull } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";
import { FallbackSchema } from "../schemas.ts";

const BodySchema = object({ fallback: orNull(FallbackSchema) }).openapi("AppFallback");
const answer = { content: { "application/json": { schema: BodySchema } } };
const read = apiRoute({ method: "get", path: "/v1/app/fallback", summary: "The app's default fallback; null: none (admin scope)", scope: "admin", responses: { 200: { description: "The default", ...answer } } });
const put = apiRoute({
  method: "put",
  path: "/v1/app/fallback",
  summary: "Set the app's default fallback, for sends that give none (admin scope)",
  description: "Edges see a change within two seconds.",
  scope: "admin",
  request: { body: { required: true, ...answer } },
  responses: { 200: { description: "As now stored", ...answer } },
});

export function appFallbackRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const app = newRouter();
  app.on(["GET", "PUT"], "/v1/app/fallback", requireScope(store, "admin"));
  const shown = (p: { afterMs: number; channels: ChannelKind[] } | null) => ({ fallback: p && { after: p.afterMs / 1000, channels: p.channels } });
  app.openapi(read, async (c) => c.json(shown(await store.appFallback(c.get("identity").appId)), 200));
  app.openapi(put, async (c) => {
    const { appId } = c.get("identity");
    const { fallback } = c.req.valid("json");
    const policy = fallback && { afterMs: fallback.after * 1000, channels: fallback.channels as ChannelKind[] };
    await store.setAppFallback(appId, policy);
    await audit(deps, c, "app.fallback_changed", appId, { fallback });
    return c.json(shown(policy), 200);
  });
  return app;
}
