// Shapes for preferences, stats and the node list: validation and /openapi.json come from here.
import { z } from "@hono/zod-openapi";
import { isValidTimeZone } from "../core/preferences.ts";
import {
  booleanField,
  CategorySchema,
  DeviceIdSchema,
  integer,
  NodeIdSchema,
  object,
  query,
  queryInstant,
  RegionSchema,
  rule,
  UserIdSchema,
} from "./fields.ts";
import { FinalStatesSchema, WaitingSchema } from "./schemas.ts";

const clockRule = rule("must be a time of day as HH:MM, 24-hour");
const clock = z
  .string(clockRule)
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, clockRule)
  .openapi({ example: "22:00" });

const timeZoneRule = rule("must be an IANA time zone such as Europe/Berlin");
const categoriesRule = rule("must be a list of at most 100 categories");
const capsRule = rule("must be a list of at most 100 caps, one per category");

export const PreferencesSchema = object({
  timeZone: z
    .string(timeZoneRule)
    .max(64, timeZoneRule)
    .refine(isValidTimeZone, timeZoneRule)
    .nullable()
    .optional()
    .openapi({ description: "IANA time zone quiet hours are read in; default UTC (or the user's)", example: "Europe/Berlin" }),
  quietHours: object({
    start: clock,
    end: clock.openapi({ example: "07:00" }),
    allowHighPriority: booleanField().optional().openapi({ description: "High-priority messages pass through quiet hours" }),
  })
    .refine((q) => q.start !== q.end, { path: ["end"], message: "must differ from start" })
    .nullable()
    .optional()
    .openapi({
      description: "Messages are held (not dropped) from start until end, local time; start > end spans midnight; start = end is refused (400)",
    }),
  mutedCategories: z.array(CategorySchema, categoriesRule).max(100, categoriesRule).optional().openapi({
    description: "Messages of these categories are suppressed",
  }),
  frequencyCaps: z
    .array(
      object({
        category: CategorySchema,
        limit: integer(1, 100_000),
        windowSeconds: integer(60, 30 * 24 * 3600),
      }),
      capsRule,
    )
    .max(100, capsRule)
    .refine((caps) => new Set(caps.map((c) => c.category)).size === caps.length, "must name each category at most once")
    .optional()
    .openapi({ description: "At most `limit` messages of the category per device per sliding window; the excess is suppressed. One cap per category (400 otherwise)" }),
}).openapi("Preferences", { description: "A device's own settings win over its user's; mutes add up" });

export const subjectParams = {
  device: object({ id: DeviceIdSchema }),
  user: object({ id: UserIdSchema }),
};

const DAY_MS = 24 * 3600 * 1000;
/** The longest range one stats request may cover; reports over longer spans add up several. */
const MAX_STATS_RANGE_DAYS = 366;

const toMs = (value: string | number | undefined): number | undefined => (typeof value === "string" ? Date.parse(value) : value);

/** [from, to) as a stats request asks for it: `to` defaults to now, `from` to a day before `to`. */
export function statsRange(query: { from?: string | number; to?: string | number }, now: number): { from: number; to: number } {
  const to = toMs(query.to) ?? now + 1;
  return { from: toMs(query.from) ?? to - DAY_MS, to };
}

export const StatsQuerySchema = query({
  from: queryInstant().optional().openapi({ description: "Start (inclusive): RFC 3339 date-time or ms since the epoch; default 24 hours before `to`" }),
  to: queryInstant().optional().openapi({ description: "End (exclusive): RFC 3339 date-time or ms since the epoch; default now" }),
}).superRefine((q, ctx) => {
  const { from, to } = statsRange(q, Date.now());
  // Runs even when from or to failed its own rule: only a range of two times can be wrong.
  if (!Number.isFinite(from) || !Number.isFinite(to)) return;
  if (!(from < to) || to - from > MAX_STATS_RANGE_DAYS * DAY_MS) {
    ctx.addIssue({ code: "custom", path: ["from"], message: `must be before to, and at most ${MAX_STATS_RANGE_DAYS} days before it` });
  }
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

export const NodeListQuerySchema = query({
  region: RegionSchema.optional().openapi({ description: "The device's region; default the edge's own" }),
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

export const NodeParamsSchema = object({ id: NodeIdSchema });

export const DrainSchema = object({
  draining: booleanField().optional().openapi({ description: "false takes a node back into service; default true" }),
}).openapi("Drain");
