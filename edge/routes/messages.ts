import { createRoute, z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import type { PriorityName } from "../../core/protocol.ts";
import { type SendRequest, sendBatch, sendMessage } from "../../core/send/send.ts";
import { trackMessage } from "../../core/tracking.ts";
import { type EdgeDeps, newRouter, requireScope } from "../env.ts";
import { errorBody, toPushmeshError } from "../http-errors.ts";
import {
  BatchResultSchema,
  BatchSendSchema,
  ErrorSchema,
  errorResponses,
  MessageStatusSchema,
  SendMessageSchema,
  SendResultSchema,
} from "../schemas.ts";

const json = { "application/json": { schema: ErrorSchema } };

const send = createRoute({
  method: "post",
  path: "/v1/messages",
  summary: "Send a message; 202 only after it is durably stored (with a sequence per device, or as scheduled)",
  security: [{ apiKey: [] }],
  request: { body: { required: true, content: { "application/json": { schema: SendMessageSchema } } } },
  responses: {
    202: {
      description: "Stored; delivery under way. A repeated idempotencyKey answers the first result again, with Idempotent-Replayed: true",
      content: { "application/json": { schema: SendResultSchema } },
    },
    ...errorResponses,
    404: { description: "DEVICE_NOT_FOUND or USER_NOT_FOUND; nothing was written", content: json },
    413: { description: "data exceeds the payload limit", content: json },
    422: { description: "IDEMPOTENCY_KEY_REUSED: the key was first used for a different request", content: json },
    503: { description: "The store cannot take writes; nothing was accepted", content: json },
  },
});

const batch = createRoute({
  method: "post",
  path: "/v1/messages/batch",
  summary: "Send up to maxBatchMessages (default 100) messages in order, each with its own result",
  description:
    "The body is validated as a whole (400 if any item fails the schema). Each item is then sent on its own: " +
    "one failing (unknown device, quota, payload) does not stop the others.",
  security: [{ apiKey: [] }],
  request: { body: { required: true, content: { "application/json": { schema: BatchSendSchema } } } },
  responses: {
    200: { description: "Per-item results, in request order", content: { "application/json": { schema: BatchResultSchema } } },
    ...errorResponses,
    413: { description: "The body exceeds maxBatchMessages × the single-send body limit", content: json },
  },
});

const status = createRoute({
  method: "get",
  path: "/v1/messages/{id}",
  summary: "A message's state per target, with counts and timestamps",
  security: [{ apiKey: [] }],
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    query: z.object({
      limit: z.coerce.number().int().min(0).max(10_000).optional().openapi({ description: "Recipients listed at most; default 1000" }),
    }),
  },
  responses: {
    200: { description: "Counts by state and the targets", content: { "application/json": { schema: MessageStatusSchema } } },
    ...errorResponses,
    404: { description: "No such message in this app", content: json },
  },
});

/** The body as core/send.ts takes it. */
function toSendRequest(body: z.infer<typeof SendMessageSchema>): SendRequest {
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
  };
}

export function messageRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("POST", ["/v1/messages", "/v1/messages/batch"], requireScope(deps.store, "send"));
  app.on("GET", "/v1/messages/:id", requireScope(deps.store, "read"));

  app.openapi(send, async (c) => {
    const { appId } = c.get("identity");
    const { result, replayed } = await sendMessage(deps, appId, toSendRequest(c.req.valid("json")));
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result, 202);
  });

  app.openapi(batch, async (c) => {
    const { appId } = c.get("identity");
    const { messages } = c.req.valid("json");
    if (messages.length > deps.config.maxBatchMessages) {
      throw new PushmeshError("INVALID_REQUEST", `at most ${deps.config.maxBatchMessages} messages per batch`);
    }
    // In order: a batch keeps its order on every device it names twice (sendBatch).
    const outcomes = await sendBatch(deps, appId, messages.map(toSendRequest));
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
    const found = await trackMessage(deps.store, appId, c.req.valid("param").id, Date.now(), limit);
    if (!found) throw new PushmeshError("MESSAGE_NOT_FOUND");
    return c.json(found, 200);
  });
  return app;
}
