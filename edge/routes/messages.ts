import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import type { PriorityName } from "../../core/protocol.ts";
import type { SendRequest } from "../../core/send/send.ts";
import { sendThrough } from "../../core/send/hand-over.ts";
import { sendByHome } from "../../core/send/by-home.ts";
import { askOtherHomes, homeSending } from "../home-routing.ts";
import { batchOrSpool, sendOrSpool } from "../../core/send/spool.ts";
import { joinTracking, type MessageTracking, trackMessage } from "../../core/tracking.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { MessageIdSchema, object, query, queryInteger } from "../fields.ts";
import { errorBody, toPushmeshError } from "../http-errors.ts";
import { apiRoute } from "../route-docs.ts";
import {
  BatchResultSchema,
  batchSendSchema,
  MessageStatusSchema,
  type SendLimits,
  SpooledMessageStatusSchema,
  sendMessageSchema,
  SendResultSchema,
} from "../schemas.ts";

/** The routes' shapes, bounded by this edge's maxTargetsPerSend and maxBatchMessages. */
function routes(limits: SendLimits) {
  const send = apiRoute({
    method: "post",
    path: "/v1/messages",
    summary: "Send a message; 202 only after it is durably stored (with a sequence per device, or as scheduled)",
    description:
      "To devices (`to.deviceId`, `to.deviceIds`, `to.userId`): the answer is a DeviceSendResult. To a topic (`to.topic`): " +
      "the message is stored once in the topic's stream and the answer is a TopicSendResult; deliverAt, delay, " +
      "idempotencyKey and collapseKey cannot be used with it. While the store takes no writes, an edge with a spool keeps " +
      "the send durably and answers a QueuedSendResult (`state: \"queued\"`); it forwards it in order once the store is back. " +
      "404 and 503 mean nothing was written.",
    scope: "send",
    errors: ["DATA_INVALID", "TEMPLATE_VARIABLES_MISSING", "DEVICE_NOT_FOUND", "USER_NOT_FOUND", "TEMPLATE_NOT_FOUND", "IDEMPOTENCY_KEY_REUSED", "QUOTA_EXCEEDED", "STORE_UNAVAILABLE", "SPOOL_FULL"],
    request: { body: { required: true, content: { "application/json": { schema: sendMessageSchema(limits) } } } },
    responses: {
      202: {
        description: "Stored; delivery under way. A repeated idempotencyKey answers the first result again, with Idempotent-Replayed: true",
        headers: { "Idempotent-Replayed": { description: "true when this is the first send's answer again", schema: { type: "string", enum: ["true"] } } },
        content: { "application/json": { schema: SendResultSchema } },
      },
    },
  });

  const batch = apiRoute({
    method: "post",
    path: "/v1/messages/batch",
    summary: `Send up to maxBatchMessages (here ${limits.maxBatchMessages}) messages in order, each with its own result`,
    description:
      "The body is validated as a whole (400 if any item fails the schema). Each item is then sent on its own: " +
      "one failing (unknown device, quota, payload) does not stop the others; its result carries the status and error " +
      "it would have got alone. The body may be maxBatchMessages times the single send's body limit (413 beyond).",
    scope: "send",
    request: { body: { required: true, content: { "application/json": { schema: batchSendSchema(limits) } } } },
    responses: {
      200: { description: "Per-item results, in request order", content: { "application/json": { schema: BatchResultSchema } } },
    },
  });

  const status = apiRoute({
    method: "get",
    path: "/v1/messages/{id}",
    summary: "A message's state per target, with counts and timestamps",
    scope: "read",
    errors: ["MESSAGE_NOT_FOUND"],
    request: {
      params: object({ id: MessageIdSchema }),
      query: query({ limit: queryInteger(0, 10_000).optional().openapi({ description: "Recipients listed at most; default 1000" }) }),
    },
    responses: {
      200: {
        description: "Counts by state and the targets; for a send this edge holds in its spool, a SpooledMessageStatus",
        content: { "application/json": { schema: z.union([MessageStatusSchema, SpooledMessageStatusSchema]).openapi({}, { unionPreferredType: "oneOf" }) } },
      },
    },
  });
  return { send, batch, status };
}

/** The body as core/send.ts takes it. */
export function toSendRequest(body: z.infer<ReturnType<typeof sendMessageSchema>>): SendRequest {
  return {
    to: body.to,
    data: body.data,
    priority: body.priority as PriorityName | undefined,
    ttl: body.ttl,
    collapseKey: body.collapseKey,
    category: body.category,
    idempotencyKey: body.idempotencyKey,
    deliverAt: typeof body.deliverAt === "string" ? Date.parse(body.deliverAt) : body.deliverAt,
    delay: body.delay,
    notification: body.notification,
    template: body.template,
    vars: body.vars,
    locale: body.locale,
    fallback: body.fallback,
  };
}

/** One send handed over to `edge`: its outcome, or the error it got there. */
async function through(deps: EdgeDeps, edge: string, appId: string, request: SendRequest) {
  const [item] = await sendThrough({ ...deps, spool: deps.spool!, handOver: deps.handOver! }, edge, appId, [request]);
  if (!item!.outcome) throw item!.error;
  return item!.outcome;
}

/** One send split by home: its joined outcome, or the error it got. */
async function viaHomes(deps: NonNullable<ReturnType<typeof homeSending>>, appId: string, request: SendRequest) {
  const [item] = await sendByHome(deps, appId, [request]);
  if (!item!.outcome) throw item!.error;
  return item!.outcome;
}

export function messageRoutes(deps: EdgeDeps) {
  const { send, batch, status } = routes(deps.config);
  const app = newRouter();
  const byHome = homeSending(deps);
  app.on("POST", ["/v1/messages", "/v1/messages/batch"], requireScope(deps.store, "send"));
  app.on("GET", "/v1/messages/:id", requireScope(deps.store, "read"));

  app.openapi(send, async (c) => {
    const { appId } = c.get("identity");
    const request = toSendRequest(c.req.valid("json"));
    const edge = c.get("handOverTo");
    const { result, replayed } = edge ? await through(deps, edge, appId, request) : byHome ? await viaHomes(byHome, appId, request) : await sendOrSpool(deps, appId, request);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result, 202);
  });

  app.openapi(batch, async (c) => {
    const { appId } = c.get("identity");
    const { messages } = c.req.valid("json");
    // In order: a batch keeps its order on every device it names twice (sendBatch).
    const edge = c.get("handOverTo");
    const requests = messages.map(toSendRequest);
    const outcomes = edge
      ? await sendThrough({ ...deps, spool: deps.spool!, handOver: deps.handOver! }, edge, appId, requests)
      : byHome
        ? await sendByHome(byHome, appId, requests)
        : await batchOrSpool(deps, appId, requests);
    const results: z.infer<typeof BatchResultSchema>["results"] = outcomes.map(({ outcome, error }, index) => {
      if (outcome) return { index, status: 202, result: outcome.result };
      const mapped = toPushmeshError(error);
      if (mapped.status >= 500) deps.log?.("batch_item_failed", { index, error: String(error) });
      return { index, status: mapped.status, error: errorBody(mapped).error };
    });
    const accepted = results.filter((r) => r.status === 202).length;
    return c.json({ accepted, failed: results.length - accepted, results }, 200);
  });

  app.openapi(status, async (c) => {
    const { appId } = c.get("identity");
    const limit = c.req.valid("query").limit ?? 1000;
    const messageId = c.req.valid("param").id;
    // The spool first: what it holds is not in the store yet, and it answers while the store is away.
    const spooled = await deps.spool?.record(appId, messageId);
    if (spooled) {
      const { acceptedAt, ...rest } = spooled;
      return c.json({ ...rest, queuedAt: acceptedAt }, 200);
    }
    // With a store per region, a message split by home is tracked in every home it reached.
    const [here, elsewhere] = await Promise.all([trackMessage(deps.store, appId, messageId, Date.now(), limit), byHome ? askOtherHomes<MessageTracking>(deps, c) : []]);
    const found = joinTracking([...(here ? [here] : []), ...elsewhere], limit);
    if (!found) throw new PushmeshError("MESSAGE_NOT_FOUND");
    return c.json(found, 200);
  });
  return app;
}
