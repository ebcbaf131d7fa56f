// Request and response shapes for every edge route: validation and /openapi.json come from here.
// Preferences, stats and nodes have theirs in schemas-ops.ts.
import { z } from "@hono/zod-openapi";
import { ApiError } from "../core/errors.ts";
import { PRIORITY_NAMES } from "../core/protocol.ts";

const name = (max: number) => z.string().min(1).max(max);
export const deviceIdSchema = name(128).regex(/^[A-Za-z0-9._:@-]+$/, "letters, digits and . _ : @ - only");
export const categorySchema = name(64)
  .regex(/^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : - only")
  .openapi({ description: "A label the sender chooses (e.g. promo, chat); mutes and frequency caps name it", example: "promo" });

/** Ten years: the longest ttl and the furthest a message may be scheduled. */
export const MAX_HORIZON_SECONDS = 10 * 365 * 24 * 3600;
/** The schema's bound on batch size; the configured `maxBatchMessages` (default 100) is what applies. */
export const BATCH_SCHEMA_MAX = 1000;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ApiError) as [keyof typeof ApiError, ...(keyof typeof ApiError)[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const RegisterDeviceSchema = z
  .object({
    deviceId: deviceIdSchema.optional().openapi({ description: "Omit to have one generated" }),
    userId: name(128).nullable().optional(),
    platform: name(32).nullable().optional(),
  })
  .strict()
  .openapi("RegisterDevice");

export const DeviceTokenSchema = z
  .object({
    deviceId: z.string(),
    token: z.string().openapi({ description: "Device token for HELLO; HMAC-signed, bound to app and device" }),
    expiresAt: z.number().int().openapi({ description: "Milliseconds since the Unix epoch" }),
    epoch: z.number().int(),
  })
  .openapi("DeviceToken");

export const SendMessageSchema = z
  .object({
    to: z
      .union([
        z.object({ deviceId: deviceIdSchema }).strict(),
        z.object({ deviceIds: z.array(deviceIdSchema).min(1).max(10_000) }).strict(),
        z.object({ userId: name(128) }).strict().openapi({ description: "Every device registered with this userId" }),
        z
          .object({ topic: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/) })
          .strict()
          .openapi({ description: "Every device subscribed to the topic; stored once with the topic's next offset" }),
      ])
      .openapi({ description: "One device, a list of devices, every device of a user, or a topic's subscribers" }),
    // Any JSON value. Not z.json(): its recursive schema sends the OpenAPI generator into a loop.
    data: z
      .unknown()
      .refine((v) => v !== undefined, "data is required")
      .openapi({ description: "Any JSON value; delivered to the device as CBOR" }),
    priority: z
      .enum(PRIORITY_NAMES as [string, ...string[]])
      .optional()
      .openapi({ description: "high wakes the device at once (and may pass quiet hours); low waits for its next heartbeat" }),
    ttl: z
      .number()
      .int()
      .positive()
      .max(MAX_HORIZON_SECONDS)
      .optional()
      .openapi({ description: "Seconds the message stays deliverable, counted from when it is due (deliverAt or now)" }),
    collapseKey: name(128).optional().openapi({ description: "A newer message with the same key replaces an undelivered older one" }),
    category: categorySchema.optional(),
    idempotencyKey: name(128)
      .optional()
      .openapi({ description: "Repeating a send with the same key returns the first answer and never makes a second message" }),
    deliverAt: z
      .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
      .optional()
      .openapi({ description: "Not before this time: RFC 3339 date-time or ms since the epoch; at most ten years ahead" }),
    delay: z
      .number()
      .int()
      .positive()
      .max(MAX_HORIZON_SECONDS)
      .optional()
      .openapi({ description: "Not before this many seconds from now; the relative form of deliverAt" }),
  })
  .strict()
  .refine((m) => m.deliverAt === undefined || m.delay === undefined, { message: "give deliverAt or delay, not both", path: ["delay"] })
  .openapi("SendMessage");

const StatesSchema = z.object({
  pending: z.number().int().openapi({ description: "In the devices' inboxes, not yet acknowledged" }),
  scheduled: z.number().int().openapi({ description: "Waiting for deliverAt" }),
  held: z.number().int().openapi({ description: "Waiting for the end of the device's quiet hours" }),
  suppressed: z.number().int().openapi({ description: "Muted or over a frequency cap; never delivered" }),
  expired: z.number().int(),
});

export const FinalStatesSchema = z
  .object({
    pending: z.number().int().openapi({ description: "In the devices' inboxes, not yet acknowledged" }),
    delivered: z.number().int().openapi({ description: "Acknowledged by the device" }),
    expired: z.number().int(),
    collapsed: z.number().int().openapi({ description: "Replaced by a newer message with the same collapseKey" }),
    suppressed: z.number().int().openapi({ description: "Muted or over a frequency cap; never delivered" }),
    failed: z.number().int().openapi({ description: "The relay could not push it (the recipient's reason says why); the device's stream moved past it" }),
  })
  .openapi("TargetStates");

export const WaitingSchema = z
  .object({
    scheduled: z.number().int().openapi({ description: "Waiting for deliverAt" }),
    held: z.number().int().openapi({ description: "Waiting for the end of the device's quiet hours" }),
  })
  .openapi("WaitingTargets");

export const SendResultSchema = z
  .object({
    messageId: z.string().uuid(),
    topic: z.string().optional().openapi({ description: "For a topic send: the topic" }),
    offset: z.number().int().optional().openapi({ description: "For a topic send: the message's offset in the topic" }),
    targets: z.number().int().openapi({ description: "Devices addressed (a topic's subscribers when it was sent), whatever became of each" }),
    deliverAt: z.number().int().nullable().openapi({ description: "When a scheduled message is due (ms since the epoch); null: now" }),
    states: StatesSchema,
  })
  .openapi("SendResult");

export const BatchSendSchema = z
  .object({ messages: z.array(SendMessageSchema).min(1).max(BATCH_SCHEMA_MAX) })
  .strict()
  .openapi("BatchSend", { description: "Up to maxBatchMessages (default 100) messages, sent in order" });

export const BatchResultSchema = z
  .object({
    accepted: z.number().int(),
    failed: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int().openapi({ description: "What the item alone would have got: 202, or an error status" }),
        result: SendResultSchema.optional(),
        error: ErrorSchema.shape.error.optional(),
      }),
    ),
  })
  .openapi("BatchResult");

const TargetTrackingSchema = z.object({
  deviceId: z.string(),
  state: z.enum(["pending", "delivered", "expired", "collapsed", "suppressed", "scheduled", "held", "failed"]),
  seq: z.number().int().nullable(),
  reason: z.string().nullable().openapi({
    description: "schedule, quiet_hours, muted, frequency_cap or ttl; for a failed target, why the relay could not push it (frame_too_large: …, undeliverable_payload: …)",
  }),
  queuedAt: z.number().int().nullable().openapi({ description: "When it entered the device's inbox" }),
  deliveredAt: z.number().int().nullable(),
  at: z.number().int().nullable().openapi({ description: "When a scheduled or held target is due, or when it was suppressed or expired" }),
});

export const MessageStatusSchema = z
  .object({
    messageId: z.string(),
    topic: z.string().optional().openapi({ description: "For a topic message: its topic. Its targets are the topic's subscribers when it was published" }),
    offset: z.number().int().optional().openapi({ description: "For a topic message: its offset in the topic" }),
    createdAt: z.number().int(),
    expiresAt: z.number().int().nullable(),
    priority: z.number().int(),
    category: z.string().nullable(),
    targets: z.number().int(),
    states: FinalStatesSchema,
    waiting: WaitingSchema,
    suppressedBy: z.object({ muted: z.number().int(), frequency_cap: z.number().int() }),
    recipients: z.array(TargetTrackingSchema),
    recipientsTruncated: z.boolean(),
  })
  .openapi("MessageStatus");

export const errorResponses = {
  400: { description: "Bad JSON or a request that fails the schema", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "Missing or unknown API key", content: { "application/json": { schema: ErrorSchema } } },
  403: { description: "The key lacks the route's scope", content: { "application/json": { schema: ErrorSchema } } },
  429: {
    description: "RATE_LIMITED or QUOTA_EXCEEDED; the Retry-After header says how many seconds to wait",
    headers: { "Retry-After": { description: "Seconds until the window resets", schema: { type: "integer" as const } } },
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;
