// An operator finds a message by id in any app (the dashboard's lookup): the same tracking an app
// reads at GET /v1/messages/{id}, with the app that sent it.
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { trackMessage } from "../../core/tracking.ts";
import { type EdgeDeps, newRouter, requireOperator } from "../env.ts";
import { MessageIdSchema, object, query, queryInteger } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";
import { MessageStatusSchema } from "../schemas.ts";

const MeshMessageSchema = MessageStatusSchema.extend({ appId: z.string().openapi({ description: "The app that sent the message" }) }).openapi("MeshMessage");

const lookup = apiRoute({
  method: "get",
  path: "/v1/mesh/messages/{id}",
  summary: "Find a message by id in any app, with its per-target state (operator credential)",
  operator: true,
  errors: ["MESSAGE_NOT_FOUND"],
  request: {
    params: object({ id: MessageIdSchema }),
    query: query({ limit: queryInteger(0, 10_000).optional().openapi({ description: "Recipients listed at most; default 1000" }) }),
  },
  responses: { 200: { description: "The message's app, counts by state and the targets", content: { "application/json": { schema: MeshMessageSchema } } } },
});

export function messageLookupRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("GET", "/v1/mesh/messages/:id", requireOperator(deps.config));
  app.openapi(lookup, async (c) => {
    const id = c.req.valid("param").id;
    const appId = await deps.store.messageApp(id);
    const found = appId === null ? null : await trackMessage(deps.store, appId, id, Date.now(), c.req.valid("query").limit ?? 1000);
    if (!appId || !found) throw new PushmeshError("MESSAGE_NOT_FOUND", "no message with this id in any app");
    return c.json({ appId, ...found }, 200);
  });
  return app;
}
