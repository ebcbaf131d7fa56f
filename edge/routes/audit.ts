// The audit log over HTTP: every entry for operators, an app's own entries for its admin.
import { z } from "@hono/zod-openapi";
import { type EdgeDeps, newRouter, requireOperator, requireScope } from "../env.ts";
import { query, queryInteger } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const EntrySchema = z
  .object({
    id: z.number().int(),
    at: z.number().int(),
    actor: z.object({ kind: z.enum(["operator", "app_key", "cli"]), keyId: z.string().optional(), appId: z.string().optional() }),
    appId: z.string().nullable().openapi({ description: "The app the action belongs to; null for a fleet action" }),
    action: z.string().openapi({ example: "key.revoked" }),
    target: z.string(),
    details: z.record(z.string(), z.unknown()),
    from: z.string().nullable().openapi({ description: "The client's address as the edge saw it" }),
  })
  .openapi("AuditEntry");
const PageSchema = z.object({ entries: z.array(EntrySchema) }).openapi("AuditPage");
const PageQuery = query({
  limit: queryInteger(1, 1000).optional().openapi({ description: "Entries at most; default 100" }),
  before: queryInteger(1, Number.MAX_SAFE_INTEGER).optional().openapi({ description: "Only entries older than this id: the next page" }),
});
const answer = { 200: { description: "Entries, newest first", content: { "application/json": { schema: PageSchema } } } };

const all = apiRoute({ method: "get", path: "/v1/audit", summary: "The audit log of the whole mesh, newest first (operator credential)", operator: true, request: { query: PageQuery }, responses: answer });
const own = apiRoute({ method: "get", path: "/v1/app/audit", summary: "This app's entries of the audit log, newest first (admin scope)", scope: "admin", request: { query: PageQuery }, responses: answer });

export function auditRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("GET", "/v1/audit", requireOperator(deps.config));
  app.on("GET", "/v1/app/audit", requireScope(deps.store, "admin"));
  app.openapi(all, async (c) => {
    const { limit = 100, before } = c.req.valid("query");
    return c.json({ entries: await deps.store.readAudit({ limit, before }) }, 200);
  });
  app.openapi(own, async (c) => {
    const { limit = 100, before } = c.req.valid("query");
    return c.json({ entries: await deps.store.readAudit({ appId: c.get("identity").appId, limit, before }) }, 200);
  });
  return app;
}
