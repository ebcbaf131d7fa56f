import type { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import type { Preferences } from "../../core/preferences.ts";
import type { SubjectType } from "../../core/store.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { apiRoute } from "../route-docs.ts";
import { PreferencesSchema, subjectParams } from "../schemas-ops.ts";

const body = { "application/json": { schema: PreferencesSchema } };

function routesFor(type: SubjectType) {
  const path = `/v1/${type}s/{id}/preferences`;
  const params = subjectParams[type];
  const put = apiRoute({
    method: "put",
    path,
    summary: `Replace the ${type}'s delivery preferences (mutes, quiet hours, frequency caps)`,
    scope: "send",
    errors: type === "device" ? ["DEVICE_NOT_FOUND"] : [],
    request: { params, body: { required: true, content: body } },
    responses: { 200: { description: "Stored; applies to messages sent or released from now on", content: body } },
  });
  const get = apiRoute({
    method: "get",
    path,
    summary: `The ${type}'s stored delivery preferences`,
    scope: "read",
    errors: ["PREFERENCES_NOT_FOUND"],
    request: { params },
    responses: { 200: { description: "The preferences", content: body } },
  });
  const remove = apiRoute({
    method: "delete",
    path,
    summary: `Forget the ${type}'s delivery preferences`,
    scope: "send",
    request: { params },
    responses: { 204: { description: "Gone (or never stored)" } },
  });
  return { put, get, remove };
}

function toPreferences(input: z.infer<typeof PreferencesSchema>): Preferences {
  return {
    timeZone: input.timeZone ?? null,
    quietHours: input.quietHours
      ? { start: input.quietHours.start, end: input.quietHours.end, allowHighPriority: input.quietHours.allowHighPriority ?? false }
      : null,
    mutedCategories: input.mutedCategories ?? [],
    frequencyCaps: input.frequencyCaps ?? [],
  };
}

export function preferenceRoutes(deps: EdgeDeps) {
  const app = newRouter();
  for (const type of ["device", "user"] as const) {
    const routes = routesFor(type);
    const path = `/v1/${type}s/:id/preferences`;
    app.on(["PUT", "DELETE"], path, requireScope(deps.store, "send"));
    app.on("GET", path, requireScope(deps.store, "read"));
    app.openapi(routes.put, async (c) => {
      const { appId } = c.get("identity");
      const { id } = c.req.valid("param");
      if (type === "device") await deps.store.requireDevices(appId, [id]);
      const prefs = toPreferences(c.req.valid("json"));
      await deps.store.putPreferences(appId, { type, id }, prefs);
      return c.json(prefs, 200);
    });
    app.openapi(routes.get, async (c) => {
      const { appId } = c.get("identity");
      const prefs = await deps.store.getPreferences(appId, { type, id: c.req.valid("param").id });
      if (!prefs) throw new PushmeshError("PREFERENCES_NOT_FOUND");
      return c.json(prefs, 200);
    });
    app.openapi(routes.remove, async (c) => {
      const { appId } = c.get("identity");
      await deps.store.deletePreferences(appId, { type, id: c.req.valid("param").id });
      return c.body(null, 204);
    });
  }
  return app;
}
