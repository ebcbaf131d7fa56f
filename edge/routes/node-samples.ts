// The relays' minute samples (core/relay/sampler.ts) as series per relay and per region, for the
// dashboard's rate and latency charts.
import { z } from "@hono/zod-openapi";
import type { RelaySample } from "../../core/store.ts";
import { type EdgeDeps, newRouter, requireOperator } from "../env.ts";
import { query, queryInteger } from "../fields.ts";
import { apiRoute } from "../route-docs.ts";

const PointSchema = z.object({
  at: z.number().int().openapi({ description: "The minute the sample was taken in (ms since the epoch)" }),
  pushed: z.number().int().openapi({ description: "PUSH and TOPIC_PUSH frames sent in the minute before" }),
  delivered: z.number().int().openapi({ description: "Pushes acknowledged and timed in that minute" }),
  p50Ms: z.number().int().nullable().openapi({ description: "Median delivery latency (edge accept to device ack); null without acks" }),
  p99Ms: z.number().int().nullable().openapi({ description: "99th percentile; for a region, the highest of its relays'" }),
});
const SeriesSchema = z
  .object({
    relays: z.array(z.object({ nodeId: z.string(), region: z.string(), samples: z.array(PointSchema) })),
    regions: z.array(z.object({ region: z.string(), samples: z.array(PointSchema) })),
  })
  .openapi("RelaySeries");

const series = apiRoute({
  method: "get",
  path: "/v1/nodes/samples",
  summary: "Each relay's and each region's pushes, acks and delivery latency per minute (operator credential)",
  operator: true,
  request: { query: query({ minutes: queryInteger(1, 120).optional().openapi({ description: "How far back; default 60" }) }) },
  responses: { 200: { description: "Series, oldest first", content: { "application/json": { schema: SeriesSchema } } } },
});

type Point = z.infer<typeof PointSchema>;
const point = ({ at, pushed, delivered, p50Ms, p99Ms }: RelaySample): Point => ({ at, pushed, delivered, p50Ms, p99Ms });

/** A region's minute: the relays' counts added; p50 is the median relay's, p99 the highest (percentiles do not add). */
function regionPoint(at: number, samples: RelaySample[]): Point {
  const sorted = (values: (number | null)[]) => values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const p50s = sorted(samples.map((s) => s.p50Ms));
  const p99s = sorted(samples.map((s) => s.p99Ms));
  return {
    at,
    pushed: samples.reduce((sum, s) => sum + s.pushed, 0),
    delivered: samples.reduce((sum, s) => sum + s.delivered, 0),
    p50Ms: p50s.length ? p50s[Math.floor((p50s.length - 1) / 2)]! : null,
    p99Ms: p99s.length ? p99s.at(-1)! : null,
  };
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function toSeries(samples: RelaySample[]): z.infer<typeof SeriesSchema> {
  const byRelay = groupBy(samples, (s) => s.nodeId);
  const byRegion = groupBy(samples, (s) => s.region);
  return {
    relays: [...byRelay].map(([nodeId, list]) => ({ nodeId, region: list[0]!.region, samples: list.map(point) })),
    regions: [...byRegion].map(([region, list]) => ({
      region,
      samples: [...groupBy(list, (s) => s.at)].map(([at, minute]) => regionPoint(at, minute)),
    })),
  };
}

export function nodeSampleRoutes(deps: EdgeDeps) {
  const app = newRouter();
  app.on("GET", "/v1/nodes/samples", requireOperator(deps.config));
  app.openapi(series, async (c) => {
    const minutes = c.req.valid("query").minutes ?? 60;
    return c.json(toSeries(await deps.store.relaySamples(Date.now() - minutes * 60_000)), 200);
  });
  return app;
}
