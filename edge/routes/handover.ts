// POST /v1/handover: sends another edge kept in its spool because it could not forward them here
// (the connection was refused), handed over now, in the order that edge took them. Only edges
// call it: the request is signed with the mesh's hand-over secret, which every edge reads from the
// store, and no app key travels. Each send keeps the id and the time the other edge gave it, so a
// hand-over repeated (its answer was lost) writes nothing twice; and it goes through this edge's
// own spool while that holds anything, so it keeps its place behind what this edge took earlier.
import { z } from "@hono/zod-openapi";
import { PushmeshError } from "../../core/errors.ts";
import { sendOrSpool } from "../../core/send/spool.ts";
import { StoreConflict } from "../../core/store.ts";
import { verifyWebhook } from "../../core/webhook-signature.ts";
import type { MiddlewareHandler } from "hono";
import { type EdgeDeps, type EdgeEnv, newRouter, overRequestRate } from "../env.ts";
import { booleanField, integer, MessageIdSchema, object, restricted, rule } from "../fields.ts";
import { errorBody, toPushmeshError } from "../http-errors.ts";
import { apiRoute } from "../route-docs.ts";
import { ErrorSchema, type SendLimits, sendMessageSchema, SendResultSchema } from "../schemas.ts";
import { toSendRequest } from "./messages.ts";

export const HANDOVER_HEADER = "Pushmesh-Handover";
/** The mesh secret (Store.meshSecret) that signs hand-overs. */
export const HANDOVER_SECRET = "handover";

function route(limits: SendLimits) {
  const max = limits.maxBatchMessages;
  const listRule = rule(`must be a list of 1 to ${max} sends`);
  const item = object({
    appId: restricted(64, /^[A-Za-z0-9_-]+$/, "letters, digits, _ and -"),
    messageId: MessageIdSchema,
    queuedAt: integer(0, Number.MAX_SAFE_INTEGER).openapi({ description: "When the first edge took the send (ms): the message's createdAt" }),
    request: sendMessageSchema(limits),
  }).openapi("HandedOverSend");
  return apiRoute({
    method: "post",
    path: "/v1/handover",
    summary: "Between edges: sends another edge kept while it could not forward them here, in the order it took them",
    description:
      "Signed with the mesh's hand-over secret (Pushmesh-Handover), never an app key. Each send keeps its messageId and queuedAt; " +
      "one handed over again is written once. Each item answers what a send would: 202, or an error status.",
    edge: true,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: object({
              live: booleanField()
                .optional()
                .openapi({ description: "true: a caller waits for this answer, and the sends count against their apps' request rate and quota here (the first edge did not count them); absent or false: they come from a spool, accepted already" }),
              items: z.array(item, listRule).min(1, listRule).max(max, listRule),
            }).openapi("Handover"),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Per-item results, in request order",
        content: {
          "application/json": {
            schema: z
              .object({
                results: z.array(
                  z.object({
                    index: z.number().int(),
                    messageId: MessageIdSchema,
                    status: z.number().int().openapi({ description: "202 (written, queued here, or written by an earlier hand-over), or the send's error status" }),
                    result: SendResultSchema.optional().openapi({ description: "With 202: what the send got here; absent when an earlier hand-over of it was written" }),
                    replayed: z.boolean().optional().openapi({ description: "With 202: the send's idempotency key answered its first result" }),
                    error: ErrorSchema.shape.error.optional(),
                  }),
                ),
              })
              .openapi("HandoverResult"),
          },
        },
      },
    },
  });
}

/** Only edges call the hand-over routes: the body signed with the mesh's hand-over secret. */
export function requireHandoverSignature(deps: Pick<EdgeDeps, "store">): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const header = c.req.header(HANDOVER_HEADER);
    if (!header) throw new PushmeshError("UNAUTHORIZED", `only edges hand sends over: sign the body in ${HANDOVER_HEADER}`);
    const secret = await deps.store.meshSecret(HANDOVER_SECRET);
    if (!(await verifyWebhook(await c.req.text(), header, secret))) throw new PushmeshError("UNAUTHORIZED", `${HANDOVER_HEADER} does not sign this body, or is more than five minutes off`);
    await next();
  };
}

/** A live hand-over's request, counted once per app against its rate (the first edge did not count it): the apps past it. */
async function overRate(deps: EdgeDeps, appIds: Set<string>): Promise<Map<string, PushmeshError>> {
  const over = new Map<string, PushmeshError>();
  for (const appId of appIds) {
    const refused = await overRequestRate(deps, appId);
    if (refused) over.set(appId, refused);
  }
  return over;
}

export function handoverRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.use("/v1/handover", requireHandoverSignature(deps));
  app.openapi(route(deps.config), async (c) => {
    const { live = false, items } = c.req.valid("json");
    const limited = live ? await overRate(deps, new Set(items.map((i) => i.appId))) : new Map<string, PushmeshError>();
    // Sends from a spool were accepted already: no quota is taken for them now.
    const sendDeps = live ? deps : { ...deps, limiter: undefined };
    const results = [];
    // In order: each send keeps its place behind the ones before it.
    for (const [index, item] of items.entries()) {
      const { appId, messageId, queuedAt } = item;
      try {
        const overLimit = limited.get(appId);
        if (overLimit) throw overLimit;
        const { result, replayed } = await sendOrSpool(sendDeps, appId, toSendRequest(item.request), { now: queuedAt, messageId });
        results.push({ index, messageId, status: 202, result, replayed });
      } catch (error) {
        if (error instanceof StoreConflict && error.kind === "message_id") {
          results.push({ index, messageId, status: 202 });
          continue;
        }
        const mapped = toPushmeshError(error);
        if (mapped.status >= 500) deps.log?.("handover_item_failed", { index, messageId, error: String(error) });
        results.push({ index, messageId, status: mapped.status, error: errorBody(mapped).error });
      }
    }
    return c.json({ results }, 200);
  });
  return app;
}
