// An app's webhook endpoints (admin scope): where events are posted, signed with a secret shown
// once at creation and at each rotation (core/webhooks.ts, core/webhook-signature.ts).
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { randomId } from "../../core/ids.ts";
import { meshSealer } from "../../core/sealing.ts";
import { newWebhookSecret } from "../../core/webhook-signature.ts";
import { WEBHOOK_EVENTS } from "../../core/webhooks.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { integer, object, oneOf, printable, rule } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const urlRule = rule("must be an http or https URL of at most 2048 characters");
const eventsRule = rule(`must be a list of 1 to ${WEBHOOK_EVENTS.length} different events of ${WEBHOOK_EVENTS.join(", ")}`);
const CreateSchema = object({
  url: z.string(urlRule).max(2048, urlRule).regex(/^https?:\/\/\S+$/, urlRule).refine((u) => URL.canParse(u), urlRule),
  events: z
    .array(oneOf(WEBHOOK_EVENTS as unknown as [string, ...string[]]), eventsRule)
    .min(1, eventsRule)
    .refine((l) => new Set(l).size === l.length, eventsRule),
}).openapi("CreateWebhook");
const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    createdAt: z.number().int(),
    rotatingUntil: z.number().int().nullable().openapi({ description: "Until when the previous secret still signs beside the current one; null: no rotation under way" }),
  })
  .openapi("Webhook");
const WithSecretSchema = WebhookSchema.extend({ secret: z.string().openapi({ description: "Signs the deliveries (Pushmesh-Signature); shown here only" }) }).openapi("WebhookWithSecret");
const params = object({ id: printable(64) });
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

const list = apiRoute({ method: "get", path: "/v1/app/webhooks", summary: "The app's webhook endpoints (admin scope)", scope: "admin", responses: { 200: { description: "Oldest first; secrets are never listed", ...json(z.object({ webhooks: z.array(WebhookSchema) })) } } });
const create = apiRoute({
  method: "post",
  path: "/v1/app/webhooks",
  summary: "Add a webhook endpoint for events (admin scope); its signing secret is in this answer only",
  scope: "admin",
  request: { body: { required: true, ...json(CreateSchema) } },
  responses: { 201: { description: "Made", ...json(WithSecretSchema) } },
});
const remove = apiRoute({ method: "delete", path: "/v1/app/webhooks/{id}", summary: "Remove a webhook endpoint and its waiting deliveries (admin scope)", scope: "admin", errors: ["WEBHOOK_NOT_FOUND"], request: { params }, responses: { 204: { description: "Gone" } } });
const rotate = apiRoute({
  method: "post",
  path: "/v1/app/webhooks/{id}/rotate-secret",
  summary: "Give the endpoint a new secret (admin scope); the old one signs beside it for graceSeconds",
  scope: "admin",
  errors: ["WEBHOOK_NOT_FOUND"],
  request: { params, body: { required: true, ...json(object({ graceSeconds: integer(0, 7 * 24 * 3600).optional().openapi({ description: "Default 86400" }) }).openapi("RotateWebhookSecret")) } },
  responses: { 200: { description: "The new secret, shown here only", ...json(WithSecretSchema) } },
});

export function webhookRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const sealer = () => meshSealer(store, deps.config.credentialsKey);
  const app = newRouter();
  app.on(["GET", "POST"], "/v1/app/webhooks", requireScope(store, "admin"));
  app.on(["DELETE", "POST"], "/v1/app/webhooks/*", requireScope(store, "admin"));
  app.openapi(list, async (c) => c.json({ webhooks: await store.listWebhooks(c.get("identity").appId) }, 200));
  app.openapi(create, async (c) => {
    const { appId } = c.get("identity");
    const { url, events } = c.req.valid("json");
    const id = randomId("wh", 12);
    const secret = newWebhookSecret();
    await store.createWebhook(appId, { id, url, events, sealedSecret: await (await sealer()).seal(secret) });
    await audit(deps, c, "webhook.created", id, { url, events });
    const made = (await store.listWebhooks(appId)).find((w) => w.id === id)!;
    return c.json({ ...made, secret }, 201);
  });
  app.openapi(remove, async (c) => {
    const { appId } = c.get("identity");
    const { id } = c.req.valid("param");
    if (!(await store.deleteWebhook(appId, id))) throw new PushmeshError("WEBHOOK_NOT_FOUND", `no webhook ${id} in this app`);
    await audit(deps, c, "webhook.deleted", id, {});
    return c.body(null, 204);
  });
  app.openapi(rotate, async (c) => {
    const { appId } = c.get("identity");
    const { id } = c.req.valid("param");
    const secret = newWebhookSecret();
    const graceSeconds = c.req.valid("json").graceSeconds ?? 86_400;
    const rotated = await store.rotateWebhookSecret(appId, id, await (await sealer()).seal(secret), Date.now() + graceSeconds * 1000);
    if (!rotated) throw new PushmeshError("WEBHOOK_NOT_FOUND", `no webhook ${id} in this app`);
    await audit(deps, c, "webhook.secret_rotated", id, { graceSeconds });
    return c.json({ ...rotated, secret }, 200);
  });
  return app;
}
