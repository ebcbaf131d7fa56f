// GET /: where things are, for whoever opens the edge's address first. JSON by default; a small
// HTML page for a browser (a client that prefers text/html).
import { z } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { type EdgeDeps, newRouter } from "../env.ts";
import { apiRoute } from "../route-docs.ts";

const HomeSchema = z
  .object({
    service: z.literal("pushmesh edge"),
    version: z.string(),
    openapi: z.string().openapi({ description: "The API document (OpenAPI 3.1)", example: "/openapi.json" }),
    docs: z.string().openapi({ description: "The HTTP API guide, in the pushmesh source tree", example: "docs/api.md" }),
    health: z.string().openapi({ description: "Answers 200 while the edge runs", example: "/healthz" }),
    nodes: z.string().openapi({ description: "Relays a device may connect to, best first (no key needed)", example: "/v1/nodes" }),
    dashboard: z.string().openapi({ description: "The operator dashboard (asks for the operator key)", example: "/dashboard" }),
  })
  .openapi("Home");

const home = apiRoute({
  method: "get",
  path: "/",
  summary: "Where things are: the API document, the docs, health and the relay list; no API key needed",
  responses: {
    200: {
      description: "JSON, or a small HTML page with the same links when the client prefers text/html",
      content: { "application/json": { schema: HomeSchema }, "text/html": { schema: z.string() } },
    },
  },
});

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function page(links: z.infer<typeof HomeSchema>): string {
  const link = (href: string, text: string) => `<a href="${escape(href)}">${escape(text)}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${links.service}</title></head>
<body>
<h1>${links.service} ${escape(links.version)}</h1>
<ul>
<li>${link(links.openapi, links.openapi)}: the API document (OpenAPI 3.1)</li>
<li>${escape(links.docs)} in the pushmesh source tree: the HTTP API guide</li>
<li>${link(links.health, links.health)}: health</li>
<li>${link(links.nodes, links.nodes)}: the relays a device may connect to</li>
<li>${link(links.dashboard, links.dashboard)}: the operator dashboard</li>
</ul>
</body></html>
`;
}

export function homeRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.openapi(home, (c) => {
    const links = { service: "pushmesh edge" as const, version: deps.config.version, openapi: "/openapi.json", docs: "docs/api.md", health: "/healthz", nodes: "/v1/nodes", dashboard: "/dashboard" };
    const type = accepts(c, { header: "Accept", supports: ["application/json", "text/html"], default: "application/json" });
    return type === "text/html" ? c.html(page(links), 200) : c.json(links, 200);
  });
  return app;
}
