// The edge: a Hono app over core/. It imports no runtime, so Bun, Deno or any fetch-style worker
// can host `app.fetch`.
import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { PushmeshError } from "../core/errors.ts";
import { type EdgeDeps, limitAppRate, newRouter } from "./env.ts";
import { forwardWrites } from "./forward-writes.ts";
import { routeToHome } from "./home-routing.ts";
import { deviceHomeRoutes } from "./routes/device-home.ts";
import { noEdgeMetrics, observeRequests } from "./metrics.ts";
import { errorResponse, toPushmeshError } from "./http-errors.ts";
import { apiRoute, sharedResponses } from "./route-docs.ts";
import { routeTable } from "./route-table.ts";
import { cors } from "./cors.ts";
import { deviceRoutes } from "./routes/devices.ts";
import { homeRoutes } from "./routes/home.ts";
import { messageLookupRoutes } from "./routes/message-lookup.ts";
import { nodeSampleRoutes } from "./routes/node-samples.ts";
import { messageRoutes } from "./routes/messages.ts";
import { HANDOVER_HEADER, handoverRoutes } from "./routes/handover.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { preferenceRoutes } from "./routes/preferences.ts";
import { statsRoutes } from "./routes/stats.ts";
import { topicRoutes } from "./routes/topics.ts";
import { keyRoutes } from "./routes/keys.ts";
import { eraseRoutes } from "./routes/erase.ts";
import { auditRoutes } from "./routes/audit.ts";
import { appRoutes } from "./routes/apps.ts";
import { browserRoutes } from "./routes/browser.ts";
import { corsOriginRoutes } from "./routes/cors-origins.ts";
import { retentionRoutes } from "./routes/retention.ts";
import { channelCredentialRoutes } from "./routes/channel-credentials.ts";
import { channelRoutes } from "./routes/channels.ts";
import { templateRoutes } from "./routes/templates.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { appFallbackRoutes } from "./routes/app-fallback.ts";

const API_DESCRIPTION = [
  "Every error answers `{\"error\":{\"code\",\"message\",\"details\"?}}`; each response lists the codes it can carry in `x-error-codes`.",
  "A request that fails its route's schema gets 400 INVALID_REQUEST with `details`: every failing field as `{path, message}`,",
  "the path naming where (`query.limit`, `path.id`, `body.to.deviceIds.3`) and the message the rule in plain words.",
  "Query parameters a route does not name, and body fields an object does not name, are refused that way, by name.",
  "A known path asked with a method it does not take answers 405 METHOD_NOT_ALLOWED with an Allow header",
  "(components.responses.MethodNotAllowed); an unknown path 404 NOT_FOUND (components.responses.NotFound).",
  "HEAD is answered wherever GET is, without the body.",
  "The device-facing paths (/, /v1/nodes, /v1/devices, /sdk/browser.js) answer CORS preflights (OPTIONS) with 204:",
  "with Access-Control-Allow-* headers for an allowed origin, without any for another.",
].join(" ");

const health = apiRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness of this edge; no API key needed",
  responses: { 200: { description: "Up", content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } } } },
});

const metricsRoute = apiRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics of this process: requests by route and status, store writes, engine errors, the scheduler's waiting targets, the purge's rows; no key",
  description: "Label values are route templates, methods and statuses: no app, device or key appears.",
  responses: { 200: { description: "The Prometheus text exposition", content: { "text/plain": { schema: z.string() } } } },
});

const openapiDocument = apiRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This document; no API key needed",
  responses: { 200: { description: "The OpenAPI 3.1 description of this edge", content: { "application/json": { schema: z.looseObject({}) } } } },
});

export function createEdgeApp(deps: EdgeDeps) {
  const app = newRouter();
  const routes = routeTable(app.openAPIRegistry);
  const metrics = deps.metrics ?? noEdgeMetrics;
  app.use("*", observeRequests(metrics));

  app.onError((error, c) => {
    const mapped = toPushmeshError(error);
    if (mapped.status >= 500) deps.log?.("edge_error", { path: c.req.path, error: String(error), cause: String(mapped.cause) });
    return errorResponse(c, mapped);
  });
  app.notFound((c) => errorResponse(c, new PushmeshError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`)));

  app.use("*", cors(deps, routes));
  // Then: a path no route has, or a method its routes do not take, is answered here at once.
  app.use("*", async (c, next) => {
    const allowed = routes.allowed(c.req.path);
    if (allowed.length === 0) return errorResponse(c, new PushmeshError("NOT_FOUND", `no route has the path ${c.req.path}`));
    if (!allowed.includes(c.req.method)) {
      c.header("Allow", allowed.join(", "));
      return errorResponse(c, new PushmeshError("METHOD_NOT_ALLOWED", `${c.req.path} takes ${allowed.join(", ")}, not ${c.req.method}`));
    }
    await next();
  });
  // Then the home edge authenticates, limits and writes forwarded requests.
  // Registered only when there is a home edge to forward to: every middleware is a step of every request.
  if (deps.config.forwardWritesTo) app.use("/v1/*", forwardWrites(deps));
  // With a store per region, what concerns one device is served by its home's edge.
  if (Object.keys(deps.config.homeEdges).length > 0) app.use("/v1/*", routeToHome(deps));
  app.use("/v1/*", limitAppRate(deps));
  // The whole body may carry some JSON around `data`; `data` itself is checked against
  // maxPayloadBytes. A batch may carry that much per message. Routes that take no body never read one.
  const tooLarge = () => {
    throw new PushmeshError("PAYLOAD_TOO_LARGE", "request body too large");
  };
  const bodyCap = deps.config.maxPayloadBytes * 2 + 64 * 1024;
  const singleLimit = bodyLimit({ maxSize: bodyCap, onError: tooLarge });
  const batchLimit = bodyLimit({ maxSize: bodyCap * deps.config.maxBatchMessages, onError: tooLarge });
  app.use("/v1/*", (c, next) => {
    if (!routes.takesBody(c.req.method, c.req.path)) return next();
    return c.req.path === "/v1/messages/batch" || c.req.path.startsWith("/v1/handover") ? batchLimit(c, next) : singleLimit(c, next);
  });

  app.openapi(health, (c) => c.json({ ok: true as const }, 200));
  app.openapi(metricsRoute, async (c) => {
    const { contentType, text } = await metrics.scrape();
    return c.text(text, 200, { "content-type": contentType });
  });
  app.route("/", homeRoutes(deps));
  app.route("/", deviceRoutes(deps));
  app.route("/", deviceHomeRoutes(deps));
  app.route("/", messageRoutes(deps));
  app.route("/", handoverRoutes(deps));
  app.route("/", messageLookupRoutes(deps));
  app.route("/", nodeSampleRoutes(deps));
  app.route("/", nodeRoutes(deps));
  app.route("/", preferenceRoutes(deps));
  app.route("/", statsRoutes(deps));
  app.route("/", topicRoutes(deps));
  app.route("/", keyRoutes(deps));
  app.route("/", eraseRoutes(deps));
  app.route("/", auditRoutes(deps));
  app.route("/", appRoutes(deps));
  app.route("/", corsOriginRoutes(deps));
  app.route("/", retentionRoutes(deps));
  app.route("/", channelCredentialRoutes(deps));
  app.route("/", channelRoutes(deps));
  app.route("/", templateRoutes(deps));
  app.route("/", webhookRoutes(deps));
  app.route("/", appFallbackRoutes(deps));
  app.route("/", browserRoutes(deps));

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An app's API key. The security requirement of each route names the scope it needs: send, read or admin",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "edgeHandover", {
    type: "apiKey",
    in: "header",
    name: HANDOVER_HEADER,
    description: "Between edges only: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\"> under the mesh's hand-over secret, which every edge reads from the store",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "operatorKey", {
    type: "http",
    scheme: "bearer",
    description: "The operator credential (po_…) configured at start: the fleet routes take it, never an app's API key",
  });
  for (const [name, response] of Object.entries(sharedResponses())) app.openAPIRegistry.registerComponent("responses", name, response);
  const info = { title: "pushmesh edge API", version: deps.config.version, description: API_DESCRIPTION };
  app.openapi(openapiDocument, (c) => c.json(app.getOpenAPI31Document({ openapi: "3.1.0", info }), 200));
  return app;
}

export type EdgeApp = ReturnType<typeof createEdgeApp>;
