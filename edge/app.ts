// The edge: a Hono app over core/. It imports no runtime, so Bun, Deno or any fetch-style worker
// can host `app.fetch`.
import { bodyLimit } from "hono/body-limit";
import { PushmeshError } from "../core/errors.ts";
import { type EdgeDeps, limitAppRate, newRouter } from "./env.ts";
import { forwardWrites } from "./forward-writes.ts";
import { errorResponse, toPushmeshError } from "./http-errors.ts";
import { deviceRoutes } from "./routes/devices.ts";
import { homeRoutes } from "./routes/home.ts";
import { messageRoutes } from "./routes/messages.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { preferenceRoutes } from "./routes/preferences.ts";
import { statsRoutes } from "./routes/stats.ts";
import { topicRoutes } from "./routes/topics.ts";

export function createEdgeApp(deps: EdgeDeps) {
  const app = newRouter();

  app.onError((error, c) => {
    const mapped = toPushmeshError(error);
    if (mapped.status >= 500) deps.log?.("edge_error", { path: c.req.path, error: String(error), cause: String(mapped.cause) });
    return errorResponse(c, mapped);
  });
  app.notFound((c) => errorResponse(c, new PushmeshError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`)));

  // Before anything else: the home edge authenticates, limits and writes forwarded requests.
  app.use("/v1/*", forwardWrites(deps));
  app.use("/v1/*", limitAppRate(deps));
  // The whole body may carry some JSON around `data`; `data` itself is checked against
  // maxPayloadBytes. A batch may carry that much per message.
  const tooLarge = () => {
    throw new PushmeshError("PAYLOAD_TOO_LARGE", "request body too large");
  };
  const bodyCap = deps.config.maxPayloadBytes * 2 + 64 * 1024;
  const singleLimit = bodyLimit({ maxSize: bodyCap, onError: tooLarge });
  const batchLimit = bodyLimit({ maxSize: bodyCap * deps.config.maxBatchMessages, onError: tooLarge });
  app.use("/v1/*", (c, next) => (c.req.path === "/v1/messages/batch" ? batchLimit(c, next) : singleLimit(c, next)));

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/", homeRoutes(deps));
  app.route("/", deviceRoutes(deps));
  app.route("/", messageRoutes(deps));
  app.route("/", nodeRoutes(deps));
  app.route("/", preferenceRoutes(deps));
  app.route("/", statsRoutes(deps));
  app.route("/", topicRoutes(deps));

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: { title: "pushmesh edge API", version: deps.config.version } });
  return app;
}

export type EdgeApp = ReturnType<typeof createEdgeApp>;
