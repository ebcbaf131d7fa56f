import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { rankNodes, withHost } from "../../core/ranking.ts";
import { audit } from "../audit.ts";
import { type EdgeDeps, newRouter, requireOperator } from "../env.ts";
import { apiRoute } from "../route-docs.ts";
import { DrainSchema, NodeAdminSchema, NodeListQuerySchema, NodeListSchema, NodeParamsSchema } from "../schemas-ops.ts";

const list = apiRoute({
  method: "get",
  path: "/v1/nodes",
  summary: "Relay nodes a device may connect to, best first; no API key needed",
  description:
    "Ranked by estimated RTT from the device's region (the `region` hint, else the edge's own) plus load; " +
    "draining, silent and weight-0 nodes are left out, full nodes go last, canaries get their weight's share. " +
    "A request that carries a valid API key counts against that app's rate limit (429) like any other.",
  request: { query: NodeListQuerySchema },
  responses: { 200: { description: "Ranked relays", content: { "application/json": { schema: NodeListSchema } } } },
});

const all = apiRoute({
  method: "get",
  path: "/v1/nodes/all",
  summary: "Every node in the registry, draining and stale ones too (operator credential)",
  operator: true,
  responses: {
    200: { description: "The registry", content: { "application/json": { schema: z.object({ nodes: z.array(NodeAdminSchema) }) } } },
  },
});

const drain = apiRoute({
  method: "post",
  path: "/v1/nodes/{id}/drain",
  summary: "Mark a node draining, or not (operator credential): devices are no longer offered it and the relay moves its devices away",
  description: "The body is optional: without one (and without a Content-Type), the node is marked draining.",
  operator: true,
  errors: ["NODE_NOT_FOUND"],
  request: {
    params: NodeParamsSchema,
    body: { required: false, content: { "application/json": { schema: DrainSchema } } },
  },
  responses: {
    200: { description: "The node as now recorded", content: { "application/json": { schema: NodeAdminSchema } } },
  },
});

export function nodeRoutes(deps: EdgeDeps) {
  const { config } = deps;
  const app = newRouter();
  app.on("GET", "/v1/nodes/all", requireOperator(config));
  app.on("POST", "/v1/nodes/:id/drain", requireOperator(config));

  app.openapi(list, async (c) => {
    const region = c.req.valid("query").region ?? config.region;
    const ranked = rankNodes(await deps.store.listNodes(), {
      region,
      rttTable: config.rttTable,
      sameRegionMs: config.rttSameRegionMs,
      unknownMs: config.rttUnknownMs,
      loadPenaltyMs: config.loadPenaltyMs,
      staleMs: config.nodeStaleMs,
      now: Date.now(),
      limit: config.nodeListLimit,
    });
    const nodes = ranked.map((n) => ({ id: n.id, region: n.region, ws: n.wsUrl, tcp: n.tcpAddr, ips: n.ips, load: n.load, rttMs: n.rttMs }));
    const fallbackIps = ranked.flatMap((n) =>
      n.ips.map((ip) => ({ nodeId: n.id, ip, ws: withHost(n.wsUrl, ip), tcp: withHost(n.tcpAddr, ip) })),
    );
    return c.json({ region, nodes, fallbackIps, heartbeat: config.heartbeat }, 200);
  });

  app.openapi(all, async (c) => {
    const now = Date.now();
    const nodes = (await deps.store.listNodes())
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((n) => adminView(n, now, config.nodeStaleMs));
    return c.json({ nodes }, 200);
  });

  app.openapi(drain, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    if (!(await deps.store.setNodeDraining(id, body.draining ?? true))) throw new PushmeshError("NODE_NOT_FOUND");
    deps.log?.("node_drain_set", { nodeId: id, draining: body.draining ?? true });
    await audit(deps, c, body.draining ?? true ? "node.drained" : "node.undrained", id);
    const node = (await deps.store.listNodes()).find((n) => n.id === id);
    if (!node) throw new PushmeshError("NODE_NOT_FOUND");
    return c.json(adminView(node, Date.now(), config.nodeStaleMs), 200);
  });
  return app;
}

function adminView(n: Awaited<ReturnType<EdgeDeps["store"]["listNodes"]>>[number], now: number, staleMs: number) {
  return {
    id: n.id,
    region: n.region,
    ws: n.wsUrl,
    tcp: n.tcpAddr,
    ips: n.ips,
    capacity: n.capacity,
    connections: n.connections,
    load: n.capacity > 0 ? n.connections / n.capacity : 1,
    draining: n.draining,
    stale: now - n.updatedAt > staleMs,
    version: n.version,
    weight: n.weight,
    startedAt: n.startedAt,
    updatedAt: n.updatedAt,
  };
}
