// An app's provider credentials (admin scope): sealed at rest (core/sealing.ts) and never answered;
// what a route shows is the public part (a VAPID public key, a project, key and team ids).
import { z } from "@hono/zod-openapi";
import { CHANNEL_KINDS, type ChannelKind } from "../../core/channels.ts";
import { PushmeshError } from "../../core/errors.ts";
import { base64url } from "../../core/ids.ts";
import { meshSealer } from "../../core/sealing.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { object, oneOf, rule } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";
import { CredentialSchemas } from "../schemas-channels.ts";

const ConfiguredSchema = z
  .object({
    kind: z.enum(CHANNEL_KINDS),
    shown: z.record(z.string(), z.unknown()).openapi({ description: "The credentials' public part; secrets are never answered" }),
    updatedAt: z.number().int(),
  })
  .openapi("ConfiguredChannel");
const answer = { content: { "application/json": { schema: ConfiguredSchema } } };
const credentialsRule = rule("must be the channel's credentials: WebPushCredentials, FcmCredentials, ApnsCredentials or EmailCredentials");
const kindParams = object({ kind: oneOf(CHANNEL_KINDS as unknown as [ChannelKind, ...ChannelKind[]]) });

/** What of each provider's credentials may be shown. */
function shownPart(kind: ChannelKind, c: Record<string, string>): Record<string, unknown> {
  if (kind === "webpush") return { vapidPublicKey: c.vapidPublicKey, subject: c.subject };
  if (kind === "fcm") return { projectId: c.projectId, clientEmail: c.clientEmail };
  if (kind === "apns") return { keyId: c.keyId, teamId: c.teamId };
  const url = new URL(c.url!);
  return { from: c.from, server: `${url.protocol}//${url.host}`, user: url.username ? decodeURIComponent(url.username) : null };
}

const list = apiRoute({
  method: "get",
  path: "/v1/app/channels",
  summary: "The channels this app has credentials for, with their public parts (admin scope)",
  scope: "admin",
  responses: { 200: { description: "Configured channels", content: { "application/json": { schema: z.object({ channels: z.array(ConfiguredSchema) }) } } } },
});
const put = apiRoute({
  method: "put",
  path: "/v1/app/channels/{kind}",
  summary: "Set this app's credentials for a channel (admin scope); they are sealed and never answered",
  description: "The body's shape depends on the kind: WebPushCredentials, FcmCredentials, ApnsCredentials or EmailCredentials.",
  scope: "admin",
  request: {
    params: kindParams,
    body: { required: true, content: { "application/json": { schema: z.union([CredentialSchemas.webpush, CredentialSchemas.fcm, CredentialSchemas.apns, CredentialSchemas.email], credentialsRule) } } },
  },
  responses: { 200: { description: "Stored; the public part", ...answer } },
});
const remove = apiRoute({
  method: "delete",
  path: "/v1/app/channels/{kind}",
  summary: "Forget this app's credentials for a channel (admin scope)",
  scope: "admin",
  errors: ["CHANNEL_NOT_CONFIGURED"],
  request: { params: kindParams },
  responses: { 204: { description: "Gone" } },
});
const subjectRule = rule("must be a mailto: or https: URL");
const vapid = apiRoute({
  method: "post",
  path: "/v1/app/channels/webpush/vapid-keys",
  summary: "Make a VAPID key pair and keep it as this app's Web Push credentials (admin scope); the public key is what browsers subscribe with",
  scope: "admin",
  request: { body: { required: true, content: { "application/json": { schema: object({ subject: z.string(subjectRule).regex(/^(mailto:|https:\/\/)\S+$/, subjectRule) }).openapi("VapidRequest") } } } },
  responses: { 201: { description: "Made and stored; the public part", ...answer } },
});

/** A P-256 key pair as VAPID wants it: the public key as the uncompressed point, the private key as its 32-byte scalar, both base64url. */
async function newVapidKeys(): Promise<{ vapidPublicKey: string; vapidPrivateKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { vapidPublicKey: base64url(raw), vapidPrivateKey: jwk.d! };
}

export function channelCredentialRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const app = newRouter();
  app.on(["GET"], "/v1/app/channels", requireScope(store, "admin"));
  app.on(["PUT", "DELETE", "POST"], "/v1/app/channels/*", requireScope(store, "admin"));
  const save = async (appId: string, kind: ChannelKind, credentials: Record<string, string>) => {
    const sealer = await meshSealer(store, deps.config.credentialsKey);
    const shown = shownPart(kind, credentials);
    await store.putCredentials(appId, kind, await sealer.seal(credentials), shown);
    return (await store.configuredChannels(appId)).find((c) => c.kind === kind)!;
  };
  app.openapi(list, async (c) => c.json({ channels: await store.configuredChannels(c.get("identity").appId) }, 200));
  app.openapi(vapid, async (c) => {
    const { appId } = c.get("identity");
    const saved = await save(appId, "webpush", { ...(await newVapidKeys()), subject: c.req.valid("json").subject });
    await audit(deps, c, "channel.configured", "webpush", { generated: true });
    return c.json(saved, 201);
  });
  app.openapi(put, async (c) => {
    const { appId } = c.get("identity");
    const { kind } = c.req.valid("param");
    // The union let any kind's shape through: the kind's own schema decides.
    const parsed = CredentialSchemas[kind].safeParse(await c.req.json());
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
      throw new PushmeshError("INVALID_REQUEST", `not ${kind} credentials: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`, { details });
    }
    const saved = await save(appId, kind, parsed.data as Record<string, string>);
    await audit(deps, c, "channel.configured", kind, {});
    return c.json(saved, 200);
  });
  app.openapi(remove, async (c) => {
    const { appId } = c.get("identity");
    const { kind } = c.req.valid("param");
    if (!(await store.deleteCredentials(appId, kind))) throw new PushmeshError("CHANNEL_NOT_CONFIGURED", `no ${kind} credentials in this app`);
    await audit(deps, c, "channel.removed", kind, {});
    return c.body(null, 204);
  });
  return app;
}
