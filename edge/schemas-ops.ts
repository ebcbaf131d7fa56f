// Shapes for preferences, stats and the node list: validation and /openapi.json come from here.
import { z } from "@hono/zod-openapi";
import { isValidTimeZone } from "../core/preferences.ts";
import { categorySchema, deviceIdSchema, FinalStatesSchema, WaitingSchema } from "./schemas.ts";

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour")
  .openapi({ example: "22:00" });

export const PreferencesSchema = z
  .object({
    timeZone: z
      .string()
      .max(64)
      .refine(isValidTimeZone, "an IANA time zone, e.g. Europe/Berlin")
      .nullable()
      .optional()
      .openapi({ description: "IANA time zone quiet hours are read in; default UTC (or the user's)", example: "Europe/Berlin" }),
    quietHours: z
      .object({
        start: clock,
        end: clock.openapi({ example: "07:00" }),
        allowHighPriority: z.boolean().optional().openapi({ description: "High-priority messages pass through quiet hours" }),
      })
      .strict()
      .refine((q) => q.start !== q.end, "start and end must differ")
      .nullable()
      .optional()
      .openapi({ description: "Messages are held (not dropped) from start until end, local time; start > end spans midnight" }),
    mutedCategories: z.array(categorySchema).max(100).optional().openapi({ description: "Messages of these categories are suppressed" }),
    frequencyCaps: z
      .array(
        z
          .object({
            category: categorySchema,
            limit: z.number().int().positive().max(100_000),
            windowSeconds: z.number().int().min(60).max(30 * 24 * 3600),
          })
          .strict(),
      )
      .max(100)
      .refine((caps) => new Set(caps.map((c) => c.category)).size === caps.length, "one cap per category")
      .optional()
      .openapi({ description: "At most `limit` messages of the category per device per sliding window; the excess is suppressed" }),
  })
  .strict()
  .openapi("Preferences", { description: "A device's own settings win over its user's; mutes add up" });

export const subjectParams = {
  device: z.object({ id: deviceIdSchema }),
  user: z.object({ id: z.string().min(1).max(128) }),
};

const instant = z
  .union([z.iso.datetime({ offset: true }), z.coerce.number().int().nonnegative()])
  .openapi({ description: "RFC 3339 date-time or ms since the epoch" });

export const StatsQuerySchema = z.object({
  from: instant.optional().openapi({ description: "Start (inclusive); default 24 hours before `to`" }),
  to: instant.optional().openapi({ description: "End (exclusive); default now" }),
});

export const StatsSchema = z
  .object({
    appId: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    messages: z.number().int().openapi({ description: "Messages accepted in the range" }),
    targets: z.number().int().openapi({ description: "Devices those messages addressed" }),
    sent: z.number().int().openapi({ description: "Targets handed to the relays (that got a sequence)" }),
    states: FinalStatesSchema,
    waiting: WaitingSchema,
    suppressedBy: z.object({ muted: z.number().int(), frequency_cap: z.number().int() }),
    latencyMs: z
      .object({
        count: z.number().int(),
        p50: z.number().nullable(),
        p90: z.number().nullable(),
        p99: z.number().nullable(),
        max: z.number().nullable(),
      })
      .openapi({ description: "From entering the inbox (or release) to the device's ack being recorded" }),
  })
  .openapi("Stats");

export const NodeListQuerySchema = z.object({
  region: z.string().min(1).max(64).optional().openapi({ description: "The device's region; default the edge's own" }),
});

export const NodeSchema = z
  .object({
    id: z.string(),
    region: z.string(),
    ws: z.string().openapi({ example: "ws://relay-1.example:7701" }),
    tcp: z.string().openapi({ example: "relay-1.example:7702" }),
    ips: z.array(z.string()).openapi({ description: "Raw IPs of the node; same ports as ws and tcp" }),
    load: z.number().openapi({ description: "connections / capacity" }),
    rttMs: z.number().openapi({ description: "Estimated round trip from the device's region" }),
  })
  .openapi("Node");

const AddressSchema = z.object({ nodeId: z.string(), ip: z.string(), ws: z.string(), tcp: z.string() });

export const NodeListSchema = z
  .object({
    region: z.string().openapi({ description: "The region the ranking was made for" }),
    nodes: z.array(NodeSchema).openapi({ description: "Best first; probe the first few in parallel and keep the fastest" }),
    fallbackIps: z
      .array(AddressSchema)
      .openapi({ description: "The listed nodes' addresses by raw IP, in rank order: keep them for when DNS or the edge fails" }),
    heartbeat: z.object({ min: z.number().int(), default: z.number().int(), max: z.number().int() }),
  })
  .openapi("NodeList");

export const NodeAdminSchema = z
  .object({
    id: z.string(),
    region: z.string(),
    ws: z.string(),
    tcp: z.string(),
    ips: z.array(z.string()),
    capacity: z.number().int(),
    connections: z.number().int(),
    load: z.number(),
    draining: z.boolean(),
    stale: z.boolean().openapi({ description: "Not reported within nodeStaleMs; devices are not offered it" }),
    version: z.string(),
    weight: z.number().int(),
    startedAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("NodeAdmin");

export const DrainSchema = z
  .object({ draining: z.boolean().optional().openapi({ description: "false takes a node back into service; default true" }) })
  .strict()
  .openapi("Drain");
