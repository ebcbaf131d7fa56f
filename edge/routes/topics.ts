import { z } from "@hono/zod-openapi";
import { changeSubscriptions } from "../../core/topics.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { askOtherHomes, changeSubscriptionsByHome, homeRegions } from "../home-routing.ts";
import { FORWARDED_BY } from "../forward-writes.ts";
import { DeviceIdSchema, object, rule, TopicSchema } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const topicParam = object({ topic: TopicSchema });
const subscribersRule = rule("must be a list of 1 to 1000 device ids");
const SubscribersSchema = object({
  deviceIds: z.array(DeviceIdSchema, subscribersRule).min(1, subscribersRule).max(1000, subscribersRule),
}).openapi("TopicSubscribers");
const SubscribedSchema = z
  .object({
    topic: TopicSchema,
    devices: z.number().int().openapi({ description: "How many device ids the request named" }),
    offset: z.number().int().openapi({ description: "The topic's latest offset: new subscribers get what comes after it" }),
  })
  .openapi("TopicSubscribed");
const TopicInfoSchema = z
  .object({
    topic: TopicSchema,
    offset: z.number().int().openapi({ description: "The topic's latest offset (with a store per region: in this edge's home's stream)" }),
    subscribers: z.number().int().openapi({ description: "Its subscribers (with a store per region: in every home)" }),
  })
  .openapi("TopicInfo");

const subscribe = apiRoute({
  method: "post",
  path: "/v1/topics/{topic}/subscribers",
  summary: "Subscribe devices to a topic (idempotent); connected devices start receiving at once",
  description: "An unknown device: 404 DEVICE_NOT_FOUND and nobody was subscribed.",
  scope: "send",
  errors: ["DEVICE_NOT_FOUND"],
  request: { params: topicParam, body: { required: true, content: { "application/json": { schema: SubscribersSchema } } } },
  responses: { 200: { description: "Subscribed", content: { "application/json": { schema: SubscribedSchema } } } },
});

const unsubscribe = apiRoute({
  method: "delete",
  path: "/v1/topics/{topic}/subscribers",
  summary: "Unsubscribe devices from a topic (idempotent: devices not subscribed are skipped)",
  scope: "send",
  request: { params: topicParam, body: { required: true, content: { "application/json": { schema: SubscribersSchema } } } },
  responses: { 200: { description: "Unsubscribed", content: { "application/json": { schema: SubscribedSchema } } } },
});

const info = apiRoute({
  method: "get",
  path: "/v1/topics/{topic}",
  summary: "A topic's latest offset and subscriber count",
  scope: "read",
  request: { params: topicParam },
  responses: { 200: { description: "The topic", content: { "application/json": { schema: TopicInfoSchema } } } },
});

export function topicRoutes(deps: EdgeDeps) {
  const app = newRouter();
  const homes = homeRegions(deps).length > 0;
  app.on(["POST", "DELETE"], "/v1/topics/:topic/subscribers", requireScope(deps.store, "send"));
  app.on("GET", "/v1/topics/:topic", requireScope(deps.store, "read"));
  app.openapi(subscribe, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const { deviceIds } = c.req.valid("json");
    const offset =
      homes && c.req.header(FORWARDED_BY) === undefined
        ? await changeSubscriptionsByHome(deps, c, appId, topic, deviceIds, true)
        : await changeSubscriptions(deps, appId, topic, deviceIds, true);
    return c.json({ topic, devices: deviceIds.length, offset }, 200);
  });
  app.openapi(unsubscribe, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const { deviceIds } = c.req.valid("json");
    const offset =
      homes && c.req.header(FORWARDED_BY) === undefined
        ? await changeSubscriptionsByHome(deps, c, appId, topic, deviceIds, false)
        : await changeSubscriptions(deps, appId, topic, deviceIds, false);
    return c.json({ topic, devices: deviceIds.length, offset }, 200);
  });
  app.openapi(info, async (c) => {
    const { appId } = c.get("identity");
    const { topic } = c.req.valid("param");
    const [offset, subscribers, elsewhere] = await Promise.all([
      deps.store.topicOffset(appId, topic),
      deps.store.topicSubscriberCount(appId, topic),
      // With a store per region, each home has its own stream and subscribers: they are counted together.
      homes ? askOtherHomes<{ subscribers: number }>(deps, c) : [],
    ]);
    return c.json({ topic, offset, subscribers: elsewhere.reduce((n, e) => n + e.subscribers, subscribers) }, 200);
  });
  return app;
}
