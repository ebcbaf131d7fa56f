import { createRoute, z } from "@hono/zod-openapi";
import { changeSubscriptions } from "../../core/topics.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { deviceIdSchema, ErrorSchema, errorResponses } from "../schemas.ts";

const json = { "application/json": { schema: ErrorSchema } };
const topicParam = z.object({ topic: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).openapi({ example: "match-7" }) });
const SubscribersSchema = z.object({ deviceIds: z.array(deviceIdSchema).min(1).max(1000) }).strict().openapi("TopicSubscribers");
const SubscribedSchema = z
  .object({
    topic: z.string(),
    devices: z.number().int(),
    offset: z.number().int().openapi({ description: "The topic's latest offset: new subscribers get what comes after it" }),
  })
  .openapi("TopicSubscribed");
const TopicInfoSchema = z.object({ topic: z.string(), offset: z.number().int(), subscribers: z.number().int() }).openapi("TopicInfo");

const subscribe = createRoute({
  method: "post",
  path: "/v1/topics/{topic}/subscribers",
  summary: "Subscribe devices to a topic (idempotent); connected devices start receiving at once",
  security: [{ apiKey: [] }],
  request: { params: topicParam, body: { required: true, content: { "application/json": { schema: SubscribersSchema } } } },
  responses: {
    200: { description: "Subscribed", content: { "application/json": { schema: SubscribedSchema } } },
    ...errorResponses,
    404: { description: "A device does not exist; nobody was subscribed", content: json },
  },
});

const unsubscribe = createRoute({
  method: "delete",
  path: "/v1/topics/{topic}/subscribers",
  summary: "Unsubscribe devices from a topic",
  security: [{ apiKey: [] }],
  request: { params: topicParam, body: { required: true, content: { "application/json": { schema: SubscribersSchema } } } },
  responses: { 200: { description: "Unsubscribed", content: { "application/json": { schema: SubscribedSchema } } }, ...errorResponses },
});

const info = createRoute({
  method: "get",
  path: "/v1/topics/{topic}",
  summary: "A topic's latest offset and subscriber count",
  security: [{ apiKey: [] }],
  request: { params: topicParam },
  responses: { 200: { description: "The topic", content: { "application/json": { schema: TopicInfoSchema } } }, ...errorResponses },
});

export function topicRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on(["POST", "DELETE"], "/v1/topics/:topic/subscribers", requireScope(deps.store, "send"));
  app.on("GET", "/v1/topics/:topic", requireScope(deps.store, "read"));
  app.openapi(subscribe, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const { deviceIds } = c.req.valid("json");
    const offset = await changeSubscriptions(deps, appId, topic, deviceIds, true);
    return c.json({ topic, devices: deviceIds.length, offset }, 200);
  });
  app.openapi(unsubscribe, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const { deviceIds } = c.req.valid("json");
    const offset = await changeSubscriptions(deps, appId, topic, deviceIds, false);
    return c.json({ topic, devices: deviceIds.length, offset }, 200);
  });
  app.openapi(info, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const [offset, subscribers] = await Promise.all([
      deps.store.topicOffset(appId, topic),
      deps.store.topicSubscriberCount(appId, topic),
    ]);
    return c.json({ topic, offset, subscribers }, 200);
  });
  return app;
}
