// Request and response shapes of devices and messages: validation and /openapi.json come from
// here. Preferences, stats and nodes have theirs in schemas-ops.ts; the fields they are built
// from, with their rules, in fields.ts.
import { z } from "@hono/zod-openapi";
import type { Config } from "../core/config.ts";
import { CHANNEL_KINDS, type ChannelKind } from "../core/channels.ts";
import { ApiError, type ApiErrorCode } from "../core/errors.ts";
import { PRIORITY_NAMES, type PriorityName } from "../core/protocol.ts";
import {
  CategorySchema,
  CollapseKeySchema,
  DeviceIdSchema,
  IdempotencyKeySchema,
  instant,
  integer,
  MessageIdSchema,
  object,
  oneOf,
  orNull,
  LocaleSchema,
  PlatformSchema,
  RegionSchema,
  TemplateNameSchema,
  rule,
  TopicSchema,
  UserIdSchema,
} from "./fields.ts";

/** Ten years: the longest ttl and the furthest a message may be scheduled. */
export const MAX_HORIZON_SECONDS = 10 * 365 * 24 * 3600;

export const IssueSchema = z
  .object({
    path: z.string().openapi({ description: "Where: query.limit, path.id, body.to.deviceIds.3", example: "query.limit" }),
    message: z.string().openapi({ description: "The rule it breaks, in plain words", example: "must be an integer from 0 to 10000" }),
  })
  .openapi("Issue");

const ERROR_CODES = Object.keys(ApiError) as [ApiErrorCode, ...ApiErrorCode[]];

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z
        .union([
          z.array(IssueSchema).openapi({ description: "INVALID_REQUEST: every failing field, with its path; DATA_INVALID: the place in data (data.a[0].b) and the rule" }),
          z.object({ deviceIds: z.array(z.string()) }).openapi({ description: "DEVICE_NOT_FOUND: the devices that do not exist" }),
          z.object({ retryAfterSeconds: z.number().int().min(1) }).openapi({ description: "RATE_LIMITED, QUOTA_EXCEEDED: as Retry-After" }),
        ])
        .optional(),
    }),
  })
  .openapi("Error");

export const RegisterDeviceSchema = object({
  deviceId: DeviceIdSchema.optional().openapi({ description: "Omit to have one generated" }),
  userId: orNull(UserIdSchema).optional(),
  platform: PlatformSchema.nullable().optional(),
  locale: LocaleSchema.nullable().optional().openapi({ description: "The device's language for templates; null: the template's default" }),
  home: RegionSchema.optional().openapi({ description: "The device's home region; default the registering edge's region. Set when the device is created, kept after" }),
}).openapi("RegisterDevice");

export const DeviceSchema = z
  .object({
    deviceId: DeviceIdSchema,
    userId: z.string().nullable(),
    platform: z.string().nullable(),
    locale: z.string().nullable(),
    home: z.string().nullable().openapi({ description: "The device's home region; null: registered before homes existed (the store's own region)" }),
    epoch: z.number().int().openapi({ description: "Changes only when the device's sequence history is reset" }),
    lastSeq: z.number().int().openapi({ description: "The highest sequence a message to it took" }),
    ackedSeq: z.number().int().openapi({ description: "The highest sequence it acknowledged" }),
    tokensRevokedAt: z.number().int().nullable().openapi({ description: "Tokens issued at or before this time (ms) are refused; null: none revoked" }),
    createdAt: z.number().int(),
  })
  .strict()
  .openapi("Device");

export const DeviceTokenSchema = z
  .object({
    deviceId: DeviceIdSchema,
    token: z.string().openapi({ description: "Device token for HELLO; HMAC-signed, bound to app and device" }),
    expiresAt: z.number().int().openapi({ description: "Milliseconds since the Unix epoch" }),
    epoch: z.number().int(),
  })
  .openapi("DeviceToken");

const titleRule = rule("must be text of at most 256 characters");
const NotificationSchema = object({
  title: z.string(titleRule).max(256, titleRule).optional(),
  body: z.string(rule("must be text of at most 2048 characters")).max(2048, rule("must be text of at most 2048 characters")).optional(),
}).openapi("Notification", { description: "What the last-mile channels show: a push's title and body, an email's subject and text" });

const channelsRule = rule(`must be a list of 1 to ${CHANNEL_KINDS.length} different channels of ${CHANNEL_KINDS.join(", ")}`);
export const FallbackSchema = object({
  after: integer(0, 7 * 24 * 3600).openapi({
    description: "Seconds to wait for the device's ack on its socket before the channels are tried; 0: at once. A device without a socket is tried at once",
  }),
  channels: z
    .array(oneOf(CHANNEL_KINDS as unknown as [ChannelKind, ...ChannelKind[]]), channelsRule)
    .min(1, channelsRule)
    .max(CHANNEL_KINDS.length, channelsRule)
    .refine((list) => new Set(list).size === list.length, channelsRule),
}).openapi("Fallback", { description: "Deliver through these channels, in order until one accepts, when the socket has not acked within `after`" });

/** Fields a topic message cannot carry: they work per device, and a topic message is stored once. */
const PER_DEVICE_FIELDS = ["deliverAt", "delay", "idempotencyKey", "collapseKey", "fallback"] as const;
const TEN_YEARS_MS = MAX_HORIZON_SECONDS * 1000;

export type SendLimits = Pick<Config, "maxTargetsPerSend" | "maxBatchMessages">;

/** The send body; the target list's bound is this edge's maxTargetsPerSend. */
export function sendMessageSchema(limits: SendLimits) {
  const max = limits.maxTargetsPerSend;
  const listRule = rule(`must be a list of 1 to ${max} device ids`);
  const to = z
    .union(
      [
        object({ deviceId: DeviceIdSchema }).openapi({ description: "One device" }),
        object({ deviceIds: z.array(DeviceIdSchema, listRule).min(1, listRule).max(max, listRule) }).openapi({
          description: `Up to maxTargetsPerSend (here ${max}) devices; a device named twice counts once`,
        }),
        object({ userId: UserIdSchema }).openapi({ description: "Every device registered with this userId" }),
        object({ topic: TopicSchema }).openapi({
          description: "Every device subscribed to the topic; stored once with the topic's next offset",
        }),
      ],
      rule("must hold exactly one of deviceId, deviceIds, userId or topic"),
    )
    .openapi("SendTarget", { description: "One device, a list of devices, every device of a user, or a topic's subscribers" }, {
      unionPreferredType: "oneOf",
    });
  const horizonRule = "must be at most ten years ahead";
  return object({
    to,
    // Any JSON value. Not z.json(): its recursive schema sends the OpenAPI generator into a loop.
    data: z
      .unknown()
      .refine((v) => v !== undefined, "is required")
      .openapi({ description: "Any JSON value; delivered to the device as CBOR. At most maxPayloadBytes (413 beyond)" }),
    priority: oneOf(PRIORITY_NAMES as [PriorityName, ...PriorityName[]])
      .optional()
      .openapi({ description: "high wakes the device at once (and may pass quiet hours); low waits for its next heartbeat; default normal" }),
    ttl: integer(1, MAX_HORIZON_SECONDS)
      .optional()
      .openapi({ description: "Seconds the message stays deliverable, counted from when it is due (deliverAt or now)" }),
    collapseKey: CollapseKeySchema.optional(),
    category: CategorySchema.optional(),
    idempotencyKey: IdempotencyKeySchema.optional(),
    deliverAt: instant()
      // Runs even when the value failed its own rule: only a time that parses can be too far.
      .refine((v) => !((typeof v === "string" ? Date.parse(v) : v) > Date.now() + TEN_YEARS_MS), horizonRule)
      .optional()
      .openapi({ description: "Not before this time: RFC 3339 date-time or ms since the epoch; at most ten years ahead" }),
    delay: integer(1, MAX_HORIZON_SECONDS)
      .optional()
      .openapi({ description: "Not before this many seconds from now; the relative form of deliverAt" }),
    notification: NotificationSchema.optional(),
    template: TemplateNameSchema.optional().openapi({ description: "Render the notification (and email) from this template instead of giving `notification`" }),
    vars: z.record(z.string(), z.unknown(), rule("must be a JSON object")).optional().openapi({ description: "The template's variables" }),
    locale: LocaleSchema.optional().openapi({ description: "The template's locale; default: a single target device's own, else the template's default" }),
    fallback: orNull(FallbackSchema).optional().openapi({ description: "Absent: the app's default (PUT /v1/app/fallback); null: no fallback" }),
  })
    .superRefine((m, ctx) => {
      if (m.deliverAt !== undefined && m.delay !== undefined) {
        ctx.addIssue({ code: "custom", path: ["delay"], message: "cannot be given with deliverAt: give one or the other" });
      }
      if (m.template !== undefined && m.notification !== undefined) {
        ctx.addIssue({ code: "custom", path: ["notification"], message: "cannot be given with template: give one or the other" });
      }
      for (const key of ["vars", "locale"] as const) {
        if (m[key] !== undefined && m.template === undefined) ctx.addIssue({ code: "custom", path: [key], message: "needs template" });
      }
      if ("topic" in m.to) {
        for (const key of PER_DEVICE_FIELDS) {
          if (m[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "cannot be used with to.topic" });
        }
      }
    })
    .openapi("SendMessage", {
      description: "deliverAt and delay exclude each other; a message to a topic carries none of deliverAt, delay, idempotencyKey, collapseKey, fallback",
      allOf: [
        { not: { required: ["deliverAt", "delay"] } },
        {
          not: {
            required: ["to"],
            properties: { to: { type: "object", required: ["topic"] } },
            anyOf: PER_DEVICE_FIELDS.map((key) => ({ required: [key] })),
          },
        },
      ],
    });
}

const SendStatesSchema = z
  .object({
    pending: z.number().int().openapi({ description: "In the devices' inboxes, not yet acknowledged" }),
    scheduled: z.number().int().openapi({ description: "Waiting for deliverAt" }),
    held: z.number().int().openapi({ description: "Waiting for the end of the device's quiet hours" }),
    suppressed: z.number().int().openapi({ description: "Muted or over a frequency cap; never delivered" }),
    expired: z.number().int(),
  })
  .strict()
  .openapi("SendStates");

const zero = z.literal(0);

const deviceSendResult = {
  messageId: MessageIdSchema,
  targets: z.number().int().openapi({ description: "Devices addressed, whatever became of each" }),
  deliverAt: z.number().int().nullable().openapi({ description: "When a scheduled message is due (ms since the epoch); null: now" }),
  states: SendStatesSchema,
};

const topicSendResult = {
  messageId: MessageIdSchema,
  topic: TopicSchema,
  offset: z.number().int().min(1).openapi({ description: "The message's offset in the topic's stream" }),
  targets: z.number().int().openapi({ description: "The topic's subscribers when it was sent" }),
  deliverAt: z.null().openapi({ description: "Always null: a topic message is never scheduled" }),
  states: z
    .object({ pending: zero, scheduled: zero, held: zero, suppressed: zero, expired: zero })
    .strict()
    .openapi({ description: "Always zeros: relays fan a topic message out as they go; it is not tracked per device" }),
};

const queuedSendResult = {
  messageId: MessageIdSchema,
  state: z.literal("queued").openapi({ description: "Kept in this edge's durable spool: the store was not taking writes. It is forwarded in order once it is" }),
  queuedAt: z.number().int().openapi({ description: "When the edge took it (ms since the epoch): the message's createdAt, from which its delay and ttl count" }),
};

const HomePartSchema = z
  .object({
    home: z.string().openapi({ description: "The home region this part went to" }),
    result: z.union([z.object(deviceSendResult).strict(), z.object(topicSendResult).strict(), z.object(queuedSendResult).strict()]),
  })
  .openapi("HomePartResult", { description: "What one home did with its part of a send" });
const homes = z
  .array(HomePartSchema)
  .optional()
  .openapi({ description: "Only in a mesh with a store per region, for a send that reached several homes: each home's part (the fields above sum the written parts)" });

export const DeviceSendResultSchema = z
  .object({ ...deviceSendResult, homes })
  .strict()
  .openapi("DeviceSendResult", { description: "The answer to a send to deviceId, deviceIds or userId" });
export const TopicSendResultSchema = z
  .object({ ...topicSendResult, homes })
  .strict()
  .openapi("TopicSendResult", { description: "The answer to a send to a topic" });
export const QueuedSendResultSchema = z
  .object({ ...queuedSendResult, homes })
  .strict()
  .openapi("QueuedSendResult", { description: "The answer to a send the edge spooled: durable on this edge, not yet in the store" });

export const SendResultSchema = z
  .union([DeviceSendResultSchema, TopicSendResultSchema, QueuedSendResultSchema])
  .openapi("SendResult", {}, { unionPreferredType: "oneOf" });

/** The batch body; its bound is this edge's maxBatchMessages. */
export function batchSendSchema(limits: SendLimits) {
  const max = limits.maxBatchMessages;
  const listRule = rule(`must be a list of 1 to ${max} messages`);
  return object({ messages: z.array(sendMessageSchema(limits), listRule).min(1, listRule).max(max, listRule) }).openapi("BatchSend", {
    description: `Up to maxBatchMessages (here ${max}) messages, sent in order`,
  });
}

const FinalStatesSchema = z
  .object({
    pending: z.number().int().openapi({ description: "In the devices' inboxes, not yet acknowledged" }),
    delivered: z.number().int().openapi({ description: "Acknowledged by the device" }),
    expired: z.number().int(),
    collapsed: z.number().int().openapi({ description: "Replaced by a newer message with the same collapseKey" }),
    suppressed: z.number().int().openapi({ description: "Muted or over a frequency cap; never delivered" }),
    failed: z.number().int().openapi({ description: "The relay could not push it (the recipient's reason says why); the device's stream moved past it" }),
  })
  .openapi("TargetStates");

const WaitingSchema = z
  .object({
    scheduled: z.number().int().openapi({ description: "Waiting for deliverAt" }),
    held: z.number().int().openapi({ description: "Waiting for the end of the device's quiet hours" }),
  })
  .openapi("WaitingTargets");

export { FinalStatesSchema, WaitingSchema };

export const BatchResultSchema = z
  .object({
    accepted: z.number().int(),
    failed: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int().openapi({ description: "What the item alone would have got: 202, or an error status" }),
        result: SendResultSchema.optional().openapi({ description: "With status 202" }),
        error: ErrorSchema.shape.error.optional().openapi({ description: "With an error status" }),
      }),
    ),
  })
  .openapi("BatchResult");

const TargetTrackingSchema = z.object({
  deviceId: DeviceIdSchema,
  state: z.enum(["pending", "delivered", "expired", "collapsed", "suppressed", "scheduled", "held", "failed"]),
  seq: z.number().int().nullable(),
  reason: z.string().nullable().openapi({
    description: "schedule, quiet_hours, muted, frequency_cap or ttl; for a failed target, why the relay could not push it (frame_too_large: …, undeliverable_payload: …)",
  }),
  queuedAt: z.number().int().nullable().openapi({ description: "When it entered the device's inbox" }),
  deliveredAt: z.number().int().nullable(),
  at: z.number().int().nullable().openapi({ description: "When a scheduled or held target is due, or when it was suppressed or expired" }),
  channels: z
    .array(
      z.object({
        kind: z.enum(CHANNEL_KINDS),
        state: z.enum(["accepted", "rejected", "gone", "retrying"]).openapi({
          description: "The provider's last answer: accepted, rejected, gone (the endpoint was removed), or retrying (it asked for later, or did not answer)",
        }),
        reason: z.string().nullable().openapi({ description: "The provider's reason, or its id for an accepted message" }),
        at: z.number().int(),
      }),
    )
    .openapi({ description: "The last-mile channels tried for this target (fallback); [] when none was" }),
  fallback: z
    .object({
      state: z.enum(["waiting", "acked", "sent", "expired", "no_endpoint", "exhausted"]).openapi({
        description: "waiting: for dueAt (or a retry); acked: the socket got there first, nothing was sent; sent: a channel accepted; expired: the message lapsed first; no_endpoint: no configured channel had an endpoint; exhausted: every channel refused, or a day of retries passed",
      }),
      dueAt: z.number().int(),
      channels: z.array(z.enum(CHANNEL_KINDS)),
      attempts: z.number().int(),
    })
    .nullable()
    .openapi({ description: "The target's fallback, when the message has one" }),
});

export const SpooledMessageStatusSchema = z
  .object({
    messageId: MessageIdSchema,
    state: z.enum(["queued", "refused"]).openapi({ description: "queued: waiting in this edge's spool for the store; refused: the store refused it when it was forwarded" }),
    queuedAt: z.number().int(),
    attempts: z.number().int().optional().openapi({ description: "queued: forwards that failed for a reason other than the store being away" }),
    lastError: z.string().nullable().optional(),
    refusedAt: z.number().int().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional().openapi({ description: "refused: the error the send would have got had the store been there" }),
  })
  .strict()
  .openapi("SpooledMessageStatus", { description: "A message this edge took while the store was away, and has not written to the store yet" });

export const MessageStatusSchema = z
  .object({
    messageId: MessageIdSchema,
    topic: TopicSchema.optional().openapi({ description: "For a topic message: its topic. Its targets are the topic's subscribers when it was published" }),
    offset: z.number().int().optional().openapi({ description: "For a topic message: its offset in the topic" }),
    createdAt: z.number().int(),
    expiresAt: z.number().int().nullable(),
    priority: z.number().int(),
    category: orNull(CategorySchema),
    targets: z.number().int(),
    states: FinalStatesSchema,
    waiting: WaitingSchema,
    suppressedBy: z.object({ muted: z.number().int(), frequency_cap: z.number().int() }),
    recipients: z.array(TargetTrackingSchema),
    recipientsTruncated: z.boolean(),
  })
  .openapi("MessageStatus");
