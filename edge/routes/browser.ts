// What a browser needs from the edge: the device SDK as one ES module, a demo page using it, and
// the operator dashboard.
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { DASHBOARD_ASSETS, type DashboardAssetName, type EdgeDeps, newRouter } from "../env.ts";
import { object, oneOf } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";
import { DASHBOARD_PAGE } from "./dashboard-page.ts";
import { DEMO_PAGE } from "./demo-page.ts";

const sdk = apiRoute({
  method: "get",
  path: "/sdk/browser.js",
  summary: "The browser device SDK as one ES module (connectBrowserDevice, PushClient, …); no API key needed",
  errors: ["NOT_FOUND"],
  responses: { 200: { description: "JavaScript (an ES module)", content: { "text/javascript": { schema: z.string() } } } },
});

const demo = apiRoute({
  method: "get",
  path: "/demo",
  summary: "A demo page: registers a device with an API key typed in, connects from the browser and shows messages; no API key needed",
  responses: { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } } },
});

const dashboard = apiRoute({
  method: "get",
  path: "/dashboard",
  summary: "The operator dashboard: relays by region with drain and undrain, apps and the audit log; the page asks for the operator key and sends it to the operator routes",
  responses: { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } } },
});

const asset = apiRoute({
  method: "get",
  path: "/dashboard/assets/{name}",
  summary: "The dashboard's chart library (uPlot): uPlot.esm.js or uPlot.min.css; no API key needed",
  errors: ["NOT_FOUND"],
  request: { params: object({ name: oneOf(Object.keys(DASHBOARD_ASSETS) as [DashboardAssetName, ...DashboardAssetName[]]) }) },
  responses: {
    200: { description: "JavaScript (an ES module) or CSS", content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } } },
  },
});

export function browserRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.openapi(sdk, async (c) => {
    if (!deps.browserSdk) throw new PushmeshError("NOT_FOUND", "this edge does not serve the browser SDK (its host has no bundler)");
    const code = await deps.browserSdk();
    return c.body(code, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" });
  });
  app.openapi(demo, (c) => c.html(DEMO_PAGE, 200));
  app.openapi(dashboard, (c) => c.html(DASHBOARD_PAGE, 200));
  app.openapi(asset, async (c) => {
    const { name } = c.req.valid("param");
    if (!deps.dashboardAsset) throw new PushmeshError("NOT_FOUND", "this edge does not serve the dashboard's chart library");
    const text = await deps.dashboardAsset(name);
    return c.body(text, 200, { "content-type": `${DASHBOARD_ASSETS[name]}; charset=utf-8`, "cache-control": "max-age=3600" });
  });
  return app;
}
