// Message templates (core/templates.ts): kept per app (admin scope to change, read to look), used
// by sends that name one, previewed by render.
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { renderTemplate, type Template, validateTemplate } from "../../core/templates.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { LocaleSchema, object, rule, TemplateNameSchema } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const text = (max: number) => z.string(rule(`must be text of at most ${max} characters`)).max(max, rule(`must be text of at most ${max} characters`));
const VariantSchema = object({
  push: object({ title: text(1024).optional(), body: text(4096).optional() }).optional(),
  email: object({ subject: text(1024), text: text(100_000), html: text(200_000).optional() }).optional(),
}).openapi("TemplateVariant");
const localesRule = rule("must be an object of 1 to 50 locales, each a locale tag with its variants");
const BodySchema = object({
  defaultLocale: LocaleSchema,
  locales: z.record(LocaleSchema, VariantSchema, localesRule).refine((l) => Object.keys(l).length >= 1 && Object.keys(l).length <= 50, localesRule),
}).openapi("TemplateBody");
const TemplateSchema = z
  .object({ name: z.string(), defaultLocale: z.string(), locales: z.record(z.string(), VariantSchema), updatedAt: z.number().int() })
  .openapi("Template");
const RenderedSchema = z
  .object({
    locale: z.string(),
    title: z.string().nullable(),
    body: z.string().nullable(),
    email: z.object({ subject: z.string(), text: z.string(), html: z.string().nullable() }).nullable(),
  })
  .openapi("RenderedTemplate");
const params = object({ name: TemplateNameSchema });
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

const list = apiRoute({ method: "get", path: "/v1/templates", summary: "The app's templates (read scope)", scope: "read", responses: { 200: { description: "By name", ...json(z.object({ templates: z.array(TemplateSchema) })) } } });
const read = apiRoute({ method: "get", path: "/v1/templates/{name}", summary: "One template (read scope)", scope: "read", errors: ["TEMPLATE_NOT_FOUND"], request: { params }, responses: { 200: { description: "The template", ...json(TemplateSchema) } } });
const put = apiRoute({
  method: "put",
  path: "/v1/templates/{name}",
  summary: "Create or replace a template: per locale, a push title and body and an email subject, text and HTML, in mustache (admin scope)",
  description: "Logic-less: partials and delimiter changes are refused; a text that does not parse is a 400 naming its field.",
  scope: "admin",
  request: { params, body: { required: true, ...json(BodySchema) } },
  responses: { 200: { description: "Stored; used by sends from now on", ...json(TemplateSchema) } },
});
const remove = apiRoute({ method: "delete", path: "/v1/templates/{name}", summary: "Delete a template (admin scope)", scope: "admin", errors: ["TEMPLATE_NOT_FOUND"], request: { params }, responses: { 204: { description: "Gone" } } });
const render = apiRoute({
  method: "post",
  path: "/v1/templates/{name}/render",
  summary: "Render a template as a send would, without sending (read scope)",
  scope: "read",
  errors: ["TEMPLATE_NOT_FOUND", "TEMPLATE_VARIABLES_MISSING"],
  request: { params, body: { required: true, ...json(object({ vars: z.record(z.string(), z.unknown(), rule("must be a JSON object")).optional(), locale: LocaleSchema.optional() }).openapi("RenderRequest")) } },
  responses: { 200: { description: "What the channels would show", ...json(RenderedSchema) } },
});

export function templateRoutes(deps: EdgeDeps) {
  const { store } = deps;
  const app = newRouter();
  app.on("GET", ["/v1/templates", "/v1/templates/:name"], requireScope(store, "read"));
  app.on("POST", "/v1/templates/:name/render", requireScope(store, "read"));
  app.on(["PUT", "DELETE"], "/v1/templates/:name", requireScope(store, "admin"));
  const found = async (appId: string, name: string) => {
    const t = await store.getTemplate(appId, name);
    if (!t) throw new PushmeshError("TEMPLATE_NOT_FOUND", `no template named ${name} in this app`);
    return t;
  };
  app.openapi(list, async (c) => c.json({ templates: await store.listTemplates(c.get("identity").appId) }, 200));
  app.openapi(read, async (c) => c.json(await found(c.get("identity").appId, c.req.valid("param").name), 200));
  app.openapi(put, async (c) => {
    const { appId } = c.get("identity");
    const { name } = c.req.valid("param");
    const template: Template = { name, ...(c.req.valid("json") as Omit<Template, "name">) };
    validateTemplate(template);
    await store.putTemplate(appId, template);
    await audit(deps, c, "template.changed", name, { locales: Object.keys(template.locales) });
    return c.json(await found(appId, name), 200);
  });
  app.openapi(remove, async (c) => {
    const { appId } = c.get("identity");
    const { name } = c.req.valid("param");
    if (!(await store.deleteTemplate(appId, name))) throw new PushmeshError("TEMPLATE_NOT_FOUND", `no template named ${name} in this app`);
    await audit(deps, c, "template.deleted", name, {});
    return c.body(null, 204);
  });
  app.openapi(render, async (c) => {
    const template = await found(c.get("identity").appId, c.req.valid("param").name);
    const { vars, locale } = c.req.valid("json");
    // The API has no push data in templates yet, so the preview answers what it documents.
    const { title, body, email, locale: rendered } = renderTemplate(template, { locale: locale ?? null, vars });
    return c.json({ locale: rendered, title, body, email }, 200);
  });
  return app;
}
