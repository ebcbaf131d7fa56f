// Webhook events, written in the same transaction as the change they report, for the endpoints
// that asked for them. Without a subscribed endpoint each statement finds no endpoint row and
// writes nothing, so the ack path pays one index lookup per flush. Hot-path style (statement.ts).
import type { ChannelKind } from "../core/channels.ts";
import type { WebhookEventType } from "../core/webhooks.ts";
import { webhookEndpoints, webhookEvents } from "./channels-schema.ts";
import { devices, InboxState, inbox } from "./schema.ts";
import { type Statement, sqlNames } from "./statement.ts";

const w = sqlNames(webhookEndpoints);
const e = sqlNames(webhookEvents);
const d = sqlNames(devices);
const i = sqlNames(inbox);


const INSERT = `INSERT INTO ${e.t} (${e.c.id}, ${e.c.endpointId}, ${e.c.appId}, ${e.c.type}, ${e.c.payload}, ${e.c.createdAt}, ${e.c.nextAt})`;
const EVENT_ID = "lower(hex(randomblob(16)))";
const wants = (type: WebhookEventType) => `EXISTS (SELECT 1 FROM json_each(wh.${w.c.events}) ev WHERE ev.value = '${type}')`;
const endpointsOf = (appIdSql: string, type: WebhookEventType) => `JOIN ${w.t} wh ON wh.${w.c.appId} = ${appIdSql} AND ${wants(type)}`;

// Before MARK_DELIVERED: the rows it is about to mark, read by the same range (delivery-marks.ts).
const ACKED = `${INSERT} SELECT ${EVENT_ID}, wh.${w.c.id}, wh.${w.c.appId}, 'message.acked',
    json_object('messageId', x.${i.c.messageId}, 'deviceId', x.${i.c.deviceId}, 'seq', x.${i.c.seq}, 'at', ?1), ?1, ?1
  FROM json_each(?2) AS j ${endpointsOf("j.value->>0", "message.acked")}
  JOIN ${d.t} AS dev ON dev.${d.c.appId} = j.value->>0 AND dev.${d.c.id} = j.value->>1
  JOIN ${i.t} AS x ON x.${i.c.appId} = j.value->>0 AND x.${i.c.deviceId} = j.value->>1
    AND x.${i.c.seq} > dev.${d.c.ackedSeq} AND x.${i.c.seq} <= j.value->>2 AND x.${i.c.state} = ${InboxState.pending}`;

const exactRows = (type: "message.expired" | "message.failed", reason: string) => `${INSERT} SELECT ${EVENT_ID}, wh.${w.c.id}, wh.${w.c.appId}, '${type}',
    json_object('messageId', x.${i.c.messageId}, 'deviceId', x.${i.c.deviceId}, 'seq', x.${i.c.seq}, 'reason', ${reason}, 'at', ?1), ?1, ?1
  FROM json_each(?2) AS j ${endpointsOf("j.value->>0", type)}
  JOIN ${i.t} AS x ON x.${i.c.appId} = j.value->>0 AND x.${i.c.deviceId} = j.value->>1 AND x.${i.c.seq} = j.value->>2 AND x.${i.c.state} = ${InboxState.pending}`;
const EXPIRED = exactRows("message.expired", "'ttl'");
const FAILED = exactRows("message.failed", "j.value->>3");

const ONE = (type: WebhookEventType) => `${INSERT} SELECT ${EVENT_ID}, wh.${w.c.id}, wh.${w.c.appId}, '${type}', ?3, ?1, ?1
  FROM (SELECT ?2 AS app) AS a ${endpointsOf("a.app", type)}`;

/** Events for the rows a delivery flush is about to mark; `json` as deliveredStatements makes it. */
export const ackedEvents = (json: string, now: number): Statement => ({ sql: ACKED, args: [now, json] });
export const expiredEvents = (json: string, now: number): Statement => ({ sql: EXPIRED, args: [now, json] });
export const failedEvents = (json: string, now: number): Statement => ({ sql: FAILED, args: [now, json] });

/** One event of the app's, for each endpoint that wants its type. */
export function appEvent(appId: string, type: "fallback.sent" | "endpoint.removed" | "message.refused", payload: Record<string, unknown>, now: number): Statement {
  return { sql: ONE(type), args: [now, appId, JSON.stringify({ ...payload, at: now })] };
}

export type FallbackSentPayload = { messageId: string; deviceId: string; seq: number; channel: ChannelKind };
