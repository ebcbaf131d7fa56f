// Erasure: a device, or a user with all its devices, and every row that names them; a live
// session of an erased device ends with DEVICE_UNKNOWN. The answer says what was removed.
// Token revocation: the device stays, its tokens issued so far stop working (TOKEN_REVOKED).
import { z } from "@hono/zod-openapi";
import { eraseDevices, revokeDeviceTokens } from "../../core/erase.ts";
import { deviceNotFound, PushmeshError } from "../../core/errors.ts";
import type { ErasedCounts } from "../../core/store.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { DeviceIdSchema, object, UserIdSchema } from "../fields.ts";
import { askOtherHomes, homeRegions } from "../home-routing.ts";
import { apiRoute } from "../route-docs.ts";

const ErasedSchema = z
  .object({
    deviceIds: z.array(z.string()).openapi({ description: "The devices erased" }),
    inboxRows: z.number().int(),
    waitingTargets: z.number().int().openapi({ description: "Scheduled, held, suppressed or expired targets removed" }),
    messages: z.number().int().openapi({ description: "Messages only these devices were sent (topic messages stay with their topic)" }),
    subscriptions: z.number().int(),
    preferences: z.number().int().openapi({ description: "Preference sets removed: the devices' own, and the user's for a user erase" }),
    endpoints: z.number().int().openapi({ description: "Channel endpoints removed: the devices' own, and the user's for a user erase" }),
  })
  .openapi("Erased");

const device = apiRoute({
  method: "delete",
  path: "/v1/devices/{id}",
  summary: "Erase a device: its inbox, waiting targets, subscriptions, preferences, channel endpoints, and the messages only it was sent (send scope)",
  description: "A live session of the device ends at once with DEVICE_UNKNOWN; a token it holds stops working.",
  scope: "send",
  errors: ["DEVICE_NOT_FOUND"],
  request: { params: object({ id: DeviceIdSchema }) },
  responses: { 200: { description: "What was removed", content: { "application/json": { schema: ErasedSchema } } } },
});

const user = apiRoute({
  method: "delete",
  path: "/v1/users/{id}",
  summary: "Erase a user: every device registered to it (as a device erase does), the user's preferences and channel endpoints (send scope)",
  scope: "send",
  errors: ["USER_NOT_FOUND"],
  request: { params: object({ id: UserIdSchema }) },
  responses: { 200: { description: "What was removed", content: { "application/json": { schema: ErasedSchema } } } },
});

const RevokedSchema = z
  .object({
    deviceId: z.string(),
    revokedAt: z.number().int().openapi({ description: "Tokens issued at or before this time (ms since the epoch) no longer open sessions" }),
    sessionEnded: z.boolean().openapi({ description: "The device had a live session, and its relay was told to end it (TOKEN_REVOKED)" }),
  })
  .openapi("TokensRevoked");

const revoke = apiRoute({
  method: "post",
  path: "/v1/devices/{id}/revoke-tokens",
  summary: "Revoke every token issued to a device so far; its live session ends with TOKEN_REVOKED (send scope)",
  description: "The device and its inbox stay. A token issued afterwards by POST /v1/devices works again.",
  scope: "send",
  errors: ["DEVICE_NOT_FOUND"],
  request: { params: object({ id: DeviceIdSchema }) },
  responses: { 200: { description: "The tokens are revoked", content: { "application/json": { schema: RevokedSchema } } } },
});

/** What this home holds of the user, erased; null: nothing. */
async function eraseUserHere(deps: EdgeDeps, appId: string, id: string): Promise<ErasedCounts | null> {
  const deviceIds = await deps.store.devicesOfUser(appId, id);
  const erased = deviceIds.length > 0 ? await eraseDevices(deps, appId, deviceIds) : null;
  const ownPreferences = await deps.store.deletePreferences(appId, { type: "user", id });
  const ownEndpoints = (await deps.store.endpointsOf(appId, { type: "user", id })).length;
  if (ownEndpoints > 0) await deps.store.putEndpoints(appId, { type: "user", id }, []);
  if (!erased && !ownPreferences && ownEndpoints === 0) return null;
  deps.log?.("user_erased", { appId, userId: id, devices: deviceIds.length });
  const result = erased ?? { deviceIds: [], inboxRows: 0, waitingTargets: 0, messages: 0, subscriptions: 0, preferences: 0, endpoints: 0 };
  return { ...result, preferences: result.preferences + (ownPreferences ? 1 : 0), endpoints: result.endpoints + ownEndpoints };
}

export function eraseRoutes(deps: EdgeDeps) {
  const app = newRouter();
  const homes = homeRegions(deps).length > 0;
  app.on("DELETE", ["/v1/devices/:id", "/v1/users/:id"], requireScope(deps.store, "send"));
  app.post("/v1/devices/:id/revoke-tokens", requireScope(deps.store, "send"));
  app.openapi(revoke, async (c) => {
    const { appId } = c.get("identity");
    const { id } = c.req.valid("param");
    const revoked = await revokeDeviceTokens(deps, appId, id, Date.now());
    if (!revoked) throw deviceNotFound([id]);
    await audit(deps, c, "device.tokens_revoked", id, { revokedAt: revoked.revokedAt });
    return c.json({ deviceId: id, ...revoked }, 200);
  });
  app.openapi(device, async (c) => {
    const { appId } = c.get("identity");
    const { id } = c.req.valid("param");
    const erased = await eraseDevices(deps, appId, [id]);
    if (erased.deviceIds.length === 0) throw deviceNotFound([id]);
    deps.log?.("device_erased", { appId, deviceId: id });
    await audit(deps, c, "device.erased", id, { inboxRows: erased.inboxRows, messages: erased.messages });
    return c.json(erased, 200);
  });
  app.openapi(user, async (c) => {
    const { appId } = c.get("identity");
    const { id } = c.req.valid("param");
    // With a store per region the user's devices may live in several homes: each erases its own.
    const [here, elsewhere] = await Promise.all([eraseUserHere(deps, appId, id), homes ? askOtherHomes<ErasedCounts>(deps, c) : []]);
    const parts = [...(here ? [here] : []), ...elsewhere];
    if (parts.length === 0) throw new PushmeshError("USER_NOT_FOUND", `user ${id} has no device and no preferences in this app`);
    const total = parts.reduce((sum, p) => ({
      deviceIds: [...sum.deviceIds, ...p.deviceIds],
      inboxRows: sum.inboxRows + p.inboxRows,
      waitingTargets: sum.waitingTargets + p.waitingTargets,
      messages: sum.messages + p.messages,
      subscriptions: sum.subscriptions + p.subscriptions,
      preferences: sum.preferences + p.preferences,
      endpoints: sum.endpoints + p.endpoints,
    }));
    if (here) await audit(deps, c, "user.erased", id, { devices: here.deviceIds.length });
    return c.json(total, 200);
  });
  return app;
}
