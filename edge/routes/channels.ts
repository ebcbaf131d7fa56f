// Channel endpoints of devices and users (send scope to set, read to list): where the fallback
// reaches a device when its socket does not ack in time (core/fallback.ts).
import type { ChannelEndpoint } from "../../core/channels.ts";
import type { SubjectType } from "../../core/store.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { apiRoute } from "../route-docs.ts";
import { EndpointsSchema } from "../schemas-channels.ts";
import { subjectParams } from "../schemas-ops.ts";

const body = { "application/json": { schema: EndpointsSchema } };

function routesFor(type: SubjectType) {
  const path = `/v1/${type}s/{id}/channels`;
  const params = subjectParams[type];
  const put = apiRoute({
    method: "put",
    path,
    summary: `Replace the ${type}'s channel endpoints: Web Push subscriptions, FCM and APNs tokens, email addresses`,
    description: type === "user" ? "A user's endpoints serve each of its devices, after the device's own." : undefined,
    scope: "send",
    errors: type === "device" ? ["DEVICE_NOT_FOUND"] : [],
    request: { params, body: { required: true, content: body } },
    responses: { 200: { description: "The endpoints as now stored (one per kind and address)", content: body } },
  });
  const get = apiRoute({
    method: "get",
    path,
    summary: `The ${type}'s channel endpoints`,
    scope: "read",
    request: { params },
    responses: { 200: { description: "The endpoints, oldest first; [] when none", content: body } },
  });
  return { put, get };
}

export function channelRoutes(deps: EdgeDeps) {
  const app = newRouter();
  for (const type of ["device", "user"] as const) {
    const routes = routesFor(type);
    const path = `/v1/${type}s/:id/channels`;
    app.on("PUT", path, requireScope(deps.store, "send"));
    app.on("GET", path, requireScope(deps.store, "read"));
    app.openapi(routes.put, async (c) => {
      const { appId } = c.get("identity");
      const { id } = c.req.valid("param");
      if (type === "device") await deps.store.requireDevices(appId, [id]);
      await deps.store.putEndpoints(appId, { type, id }, c.req.valid("json").endpoints as ChannelEndpoint[]);
      return c.json({ endpoints: await deps.store.endpointsOf(appId, { type, id }) }, 200);
    });
    app.openapi(routes.get, async (c) => {
      const { appId } = c.get("identity");
      return c.json({ endpoints: await deps.store.endpointsOf(appId, { type, id: c.req.valid("param").id }) }, 200);
    });
  }
  return app;
}
