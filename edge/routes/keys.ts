// An app's API keys, managed by the app itself (admin scope): create with the scopes it needs
// (send only, unless asked), list, rotate (a new key; the old one stops after a grace period) and
// revoke. The key itself is shown once, in the answer that makes it. A revoked key stops working
// at once on the edge that revoked it and within API_KEY_CACHE_MS (30 s) everywhere else.
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import type { ApiKeyRecord, Scope, Store } from "../../core/store.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { integer, object, printable, rule } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const SCOPES = ["send", "read", "admin"] as const;
const scopesRule = rule("must be a list of 1 to 3 of send, read, admin");
const ScopesSchema = z.array(z.enum(SCOPES, scopesRule), scopesRule).min(1, scopesRule).max(3, scopesRule);
const KeyIdSchema = printable(64).openapi("KeyId", { description: "An API key's id (not the key)", example: "key_4xq9c2t7m1" });

const KeySchema = z
  .object({
    keyId: KeyIdSchema,
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.number().int(),
    revokedAt: z.number().int().nullable().openapi({ description: "When it stops (or stopped) working; null: it works" }),
  })
  .openapi("ApiKey");
const NewKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: "The key itself: shown here once, never again", example: "pm_3tW…" }),
}).openapi("NewApiKey");
const RotatedSchema = NewKeySchema.extend({ replaced: KeySchema }).openapi("RotatedApiKey");
const CreateSchema = object({
  name: printable(64),
  scopes: ScopesSchema.optional().openapi({ description: "Default: [\"send\"], the least a back end sending messages needs" }),
}).openapi("CreateApiKey");
const RotateSchema = object({
  graceSeconds: integer(0, 86_400).optional().openapi({ description: "How long the old key keeps working; default 0" }),
}).openapi("RotateApiKey");
const keyParam = object({ keyId: KeyIdSchema });
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

const list = apiRoute({
  method: "get",
  path: "/v1/keys",
  summary: "The app's API keys, revoked ones too (admin scope); never the keys themselves",
  scope: "admin",
  responses: { 200: { description: "The keys", ...json(z.object({ keys: z.array(KeySchema) })) } },
});

const create = apiRoute({
  method: "post",
  path: "/v1/keys",
  summary: "Make a key with the scopes given, send only by default (admin scope)",
  scope: "admin",
  request: { body: { required: true, content: { "application/json": { schema: CreateSchema } } } },
  responses: { 201: { description: "The key, shown once", ...json(NewKeySchema) } },
});

const rotate = apiRoute({
  method: "post",
  path: "/v1/keys/{keyId}/rotate",
  summary: "Replace a key: a new one with the same name and scopes; the old one stops after graceSeconds (admin scope)",
  scope: "admin",
  errors: ["KEY_NOT_FOUND"],
  request: { params: keyParam, body: { required: false, content: { "application/json": { schema: RotateSchema } } } },
  responses: { 201: { description: "The new key, shown once, and the one it replaces", ...json(RotatedSchema) } },
});

const revoke = apiRoute({
  method: "delete",
  path: "/v1/keys/{keyId}",
  summary: "Revoke a key now (admin scope); the app's last admin key cannot be revoked",
  description: "The key stops working at once on this edge and within 30 s (the key cache) on every other.",
  scope: "admin",
  errors: ["KEY_NOT_FOUND", "LAST_ADMIN_KEY"],
  request: { params: keyParam },
  responses: { 200: { description: "The key as now recorded", ...json(KeySchema) } },
});

/** Refuses to leave the app without a working admin key. */
async function keepAnAdmin(store: Store, appId: string, keyId: string, now: number): Promise<ApiKeyRecord> {
  const keys = await store.listApiKeys(appId);
  const key = keys.find((k) => k.keyId === keyId);
  if (!key) throw new PushmeshError("KEY_NOT_FOUND", `no key ${keyId} in this app`);
  const works = (k: ApiKeyRecord) => k.revokedAt === null || k.revokedAt > now;
  if (works(key) && key.scopes.includes("admin") && !keys.some((k) => k.keyId !== keyId && works(k) && k.scopes.includes("admin"))) {
    throw new PushmeshError("LAST_ADMIN_KEY");
  }
  return key;
}

export function keyRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const app = newRouter();
  app.on(["GET", "POST"], "/v1/keys", requireScope(store, "admin"));
  app.on(["POST", "DELETE"], ["/v1/keys/:keyId/rotate", "/v1/keys/:keyId"], requireScope(store, "admin"));

  app.openapi(list, async (c) => c.json({ keys: await store.listApiKeys(c.get("identity").appId) }, 200));

  app.openapi(create, async (c) => {
    const { appId } = c.get("identity");
    const { name, scopes = ["send"] } = c.req.valid("json");
    const now = Date.now();
    const wanted = [...new Set(scopes)] as Scope[];
    const { keyId, key } = await store.createApiKey(appId, name, wanted, now);
    await audit(deps, c, "key.created", keyId, { name, scopes: wanted });
    return c.json({ keyId, key, name, scopes: wanted, createdAt: now, revokedAt: null }, 201);
  });

  app.openapi(rotate, async (c) => {
    const { appId } = c.get("identity");
    const { keyId } = c.req.valid("param");
    const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    const now = Date.now();
    const old = (await store.listApiKeys(appId)).find((k) => k.keyId === keyId);
    if (!old) throw new PushmeshError("KEY_NOT_FOUND", `no key ${keyId} in this app`);
    const made = await store.createApiKey(appId, old.name, old.scopes, now);
    const replaced = await store.revokeApiKey(appId, keyId, now + (body.graceSeconds ?? 0) * 1000);
    deps.log?.("api_key_rotated", { appId, keyId, newKeyId: made.keyId });
    await audit(deps, c, "key.rotated", keyId, { newKeyId: made.keyId, graceSeconds: body.graceSeconds ?? 0 });
    return c.json({ keyId: made.keyId, key: made.key, name: old.name, scopes: old.scopes, createdAt: now, revokedAt: null, replaced: replaced! }, 201);
  });

  app.openapi(revoke, async (c) => {
    const { appId } = c.get("identity");
    const { keyId } = c.req.valid("param");
    const now = Date.now();
    await keepAnAdmin(store, appId, keyId, now);
    const revoked = await store.revokeApiKey(appId, keyId, now);
    if (!revoked) throw new PushmeshError("KEY_NOT_FOUND", `no key ${keyId} in this app`);
    deps.log?.("api_key_revoked", { appId, keyId });
    await audit(deps, c, "key.revoked", keyId);
    return c.json(revoked, 200);
  });
  return app;
}
