import { signDeviceToken } from "../../core/auth.ts";
import { deviceNotFound, PushmeshError } from "../../core/errors.ts";
import { randomId } from "../../core/ids.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { apiRoute } from "../route-docs.ts";
import { DeviceIdSchema, object } from "../fields.ts";
import { DeviceSchema, DeviceTokenSchema, RegisterDeviceSchema } from "../schemas.ts";

const register = apiRoute({
  method: "post",
  path: "/v1/devices",
  summary: "Register a device (or re-issue its token) and get a device token",
  scope: "send",
  request: { body: { required: true, content: { "application/json": { schema: RegisterDeviceSchema } } } },
  responses: {
    200: { description: "The device existed; a fresh token", content: { "application/json": { schema: DeviceTokenSchema } } },
    201: { description: "The device was created", content: { "application/json": { schema: DeviceTokenSchema } } },
  },
});

const read = apiRoute({
  method: "get",
  path: "/v1/devices/{id}",
  summary: "A device: its user, platform, locale, home region, epoch, sequences and token revocation",
  scope: "read",
  errors: ["DEVICE_NOT_FOUND"],
  request: { params: object({ id: DeviceIdSchema }) },
  responses: {
    200: { description: "The device", content: { "application/json": { schema: DeviceSchema } } },
  },
});

export function deviceRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.use("/v1/devices", requireScope(deps.store, "send"));
  app.on("GET", "/v1/devices/:id", requireScope(deps.store, "read"));
  app.openapi(read, async (c) => {
    const { appId } = c.get("identity");
    const deviceId = c.req.valid("param").id;
    const device = await deps.store.getDevice(appId, deviceId);
    if (!device) throw deviceNotFound([deviceId]);
    const { appId: _, ...shown } = device;
    return c.json(shown, 200);
  });
  app.openapi(register, async (c) => {
    const { appId } = c.get("identity");
    const input = c.req.valid("json");
    const deviceId = input.deviceId ?? randomId("dev", 16);
    const { device, created } = await deps.store.upsertDevice(appId, { ...input, deviceId, home: input.home ?? deps.config.region });
    const secret = await deps.store.appSecret(appId);
    if (!secret) throw new PushmeshError("INTERNAL", "app has no signing secret");
    // After a revocation in this very millisecond, the new token must still be newer than it.
    const issuedAt = Math.max(Date.now(), (device.tokensRevokedAt ?? 0) + 1);
    const expiresAt = issuedAt + deps.config.tokenTtlSeconds * 1000;
    const token = await signDeviceToken(secret, { appId, deviceId, expiresAt, issuedAt });
    return c.json({ deviceId, token, expiresAt, epoch: device.epoch }, created ? 201 : 200);
  });
  return app;
}
