// A device's home: PUT /v1/devices/{id}/home moves it (core/move-home.ts), served by the edge of
// its current home (edge/home-routing.ts sends the request there); POST /v1/handover/device is
// the new home's side, called only by that edge, signed like every hand-over.
import { z } from "@hono/zod-openapi";
import { moveFromJson } from "../../core/homes-store.ts";
import { moveHome } from "../../core/move-home.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { DeviceIdSchema, integer, object, oneOf, RegionSchema, restricted, rule, TopicSchema } from "../fields.ts";
import { handDeviceClient } from "../handover-client.ts";
import { homeRegions } from "../home-routing.ts";
import { apiRoute } from "../route-docs.ts";
import { requireHandoverSignature } from "./handover.ts";

const moveRoute = (homes: [string, ...string[]]) => apiRoute({
  method: "put",
  path: "/v1/devices/{id}/home",
  summary: "Move a device's home: its undelivered messages, waiting targets, preferences, endpoints and topics go to that region's store",
  description:
    "Served by the edge of the device's current home (any edge sends it there). Nothing is lost, doubled or reordered: sends made during the move are " +
    "written in the new home after what was moved. 503 FORWARD_FAILED: the new home did not confirm; the device waits, sealed, until the same request is made again.",
  scope: "send",
  errors: ["DEVICE_NOT_FOUND"],
  request: {
    params: object({ id: DeviceIdSchema }),
    body: { required: true, content: { "application/json": { schema: object({ home: oneOf(homes).openapi({ description: "One of this mesh's home regions" }) }).openapi("DeviceHomeMove") } } },
  },
  responses: {
    200: {
      description: "The device's home is `home` (already, when `from` is the same)",
      content: {
        "application/json": {
          schema: z
            .object({
              deviceId: DeviceIdSchema,
              home: z.string(),
              from: z.string().openapi({ description: "The home it left" }),
              messages: z.number().int().openapi({ description: "Inbox rows after its acked sequence that moved with it" }),
            })
            .openapi("DeviceHomeMoved"),
        },
      },
    },
  },
});

const rowsRule = rule("must be a list of JSON objects");
const rowsOf = (what: string) => z.array(z.looseObject({}, rowsRule), rowsRule).openapi({ description: `${what}, as the old home's rows` });
const DeviceHandoverSchema = object({
  appId: restricted(64, /^[A-Za-z0-9_-]+$/, "letters, digits, _ and -"),
  deviceId: DeviceIdSchema,
  to: RegionSchema,
  at: integer(0, Number.MAX_SAFE_INTEGER),
  topics: z.array(TopicSchema, rule("must be a list of topic names")).openapi({ description: "Its topic subscriptions, by name" }),
  rows: object({
    device: rowsOf("The device").min(1, rule("must hold the one device row")).max(1, rule("must hold the one device row")),
    messages: rowsOf("The messages of its inbox rows and waiting targets"),
    inbox: rowsOf("Its inbox after its acked sequence"),
    deferredTargets: rowsOf("Its scheduled and held targets"),
    fallbackJobs: rowsOf("Its fallback jobs"),
    preferences: rowsOf("Its preferences"),
    channelEndpoints: rowsOf("Its endpoints"),
  }),
}).openapi("DeviceHandover");

const receive = apiRoute({
  method: "post",
  path: "/v1/handover/device",
  summary: "Between edges: a device whose home moves here, with what goes with it",
  description: "Signed with the mesh's hand-over secret (Pushmesh-Handover), never an app key. Written in one transaction; a repeat writes nothing twice.",
  edge: true,
  request: { body: { required: true, content: { "application/json": { schema: DeviceHandoverSchema } } } },
  responses: { 200: { description: "This home holds the device", content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } } } },
});

export function deviceHomeRoutes(deps: EdgeDeps) {
  const app = newRouter();
  const known = homeRegions(deps);
  const homes: [string, ...string[]] = known.length > 0 ? [known[0]!, ...known.slice(1)] : [deps.config.region];
  const move = moveRoute(homes);
  app.put("/v1/devices/:id/home", requireScope(deps.store, "send"));
  app.use("/v1/handover/device", requireHandoverSignature(deps));
  const handDevice = handDeviceClient(deps);
  app.openapi(move, async (c) => {
    const { appId } = c.get("identity");
    const moved = await moveHome(
      { store: deps.store, engine: deps.engine, region: deps.config.region, homes, handDevice, log: deps.log },
      appId,
      c.req.valid("param").id,
      c.req.valid("json").home,
    );
    return c.json(moved, 200);
  });
  app.openapi(receive, async (c) => {
    c.req.valid("json");
    // Parsed again for the bytes a message's data travels as ({$bytes: base64}).
    const moved = moveFromJson(await c.req.text());
    await deps.store.moveIn(moved);
    const device = moved.rows.device[0] as { userId?: string | null } | undefined;
    await deps.store.setDeviceHome(moved.appId, moved.deviceId, moved.to, device?.userId ?? null, moved.at);
    return c.json({ ok: true as const }, 200);
  });
  return app;
}
