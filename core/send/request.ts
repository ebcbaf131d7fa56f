// Validate: a send request as the API takes it, checked once and turned into what the rest of the
// send path works with — its targets, its payload encoded once, its times from core/lifecycle.ts.
// Nothing here reads the store: a request that fails here cost nothing.
import { encodeData } from "../codec.ts";
import type { Config } from "../config.ts";
import { PushmeshError } from "../errors.ts";
import { expiryOf } from "../lifecycle.ts";
import { Priority, type PriorityCode, type PriorityName, TOPIC_PATTERN } from "../protocol.ts";
import type { ChannelKind, FallbackPolicy, Notification } from "../channels.ts";

/** Who a message goes to. Each form but a topic resolves to a list of the app's devices. */
export type SendTarget = { deviceId: string } | { deviceIds: string[] } | { userId: string } | { topic: string };
export type DeviceTarget = Exclude<SendTarget, { topic: string }>;

export type SendRequest = {
  to: SendTarget;
  data: unknown;
  priority?: PriorityName;
  /** Seconds the message stays deliverable, counted from when it is due; absent: forever. */
  ttl?: number;
  collapseKey?: string;
  /** Label for mutes and frequency caps. */
  category?: string;
  /** A repeat with the same key gets the first answer and never makes a second message. */
  idempotencyKey?: string;
  /** Milliseconds since the epoch before which the message is not delivered. */
  deliverAt?: number;
  /** Seconds from now before which the message is not delivered; the other form of `deliverAt`. */
  delay?: number;
  /** What the last-mile channels show. */
  notification?: { title?: string; body?: string };
  /** Render the notification from this template (core/send/template.ts), with `vars`, in `locale`. */
  template?: string;
  vars?: Record<string, unknown>;
  locale?: string;
  /** Channels to try when the socket has not acked within `after` seconds; absent: the app's default; null: none. */
  fallback?: { after: number; channels: ChannelKind[] } | null;
};

/** A request that passed every check that needs no store. */
export type ValidSend = {
  request: SendRequest;
  /** The message body as stored and pushed: CBOR, encoded once here. */
  data: Uint8Array;
  priority: PriorityCode;
  collapseKey: string | null;
  category: string | null;
  /** When it may go out: now, or its scheduled time. */
  dueAt: number;
  /** The scheduled time when it lies ahead; null: now. */
  deliverAt: number | null;
  expiresAt: number | null;
  notification: Notification | null;
  fallback: FallbackPolicy | null;
};

/** The furthest a message may be scheduled: ten years. */
const MAX_HORIZON_MS = 10 * 365 * 24 * 3600 * 1000;
/** Options that work per device; a topic message is stored once for every subscriber. */
const PER_DEVICE = ["deliverAt", "delay", "idempotencyKey", "collapseKey", "fallback"] as const;

export function validateSend(request: SendRequest, config: Pick<Config, "maxPayloadBytes">, now: number): ValidSend {
  const data = encodeData(request.data ?? null);
  if (data.length > config.maxPayloadBytes) {
    throw new PushmeshError("PAYLOAD_TOO_LARGE", `data is ${data.length} bytes as CBOR; the limit is ${config.maxPayloadBytes}`);
  }
  const asked = request.deliverAt ?? (request.delay === undefined ? null : now + request.delay * 1000);
  if (asked !== null && (!Number.isFinite(asked) || asked > now + MAX_HORIZON_MS)) {
    throw new PushmeshError("INVALID_REQUEST", "deliverAt must be a valid time at most ten years ahead");
  }
  if ("topic" in request.to) {
    if (!TOPIC_PATTERN.test(request.to.topic)) throw new PushmeshError("INVALID_REQUEST", "topic names are 1-128 of [A-Za-z0-9._:-]");
    const perDevice = PER_DEVICE.filter((k) => request[k] !== undefined);
    if (perDevice.length > 0) throw new PushmeshError("INVALID_REQUEST", `${perDevice.join(", ")} cannot be used with to.topic`);
  }
  const deliverAt = asked !== null && asked > now ? asked : null;
  const dueAt = deliverAt ?? now;
  return {
    request,
    data,
    priority: Priority[request.priority ?? "normal"],
    collapseKey: request.collapseKey ?? null,
    category: request.category ?? null,
    dueAt,
    deliverAt,
    expiresAt: expiryOf(dueAt, request.ttl),
    notification: request.notification ? { title: request.notification.title ?? null, body: request.notification.body ?? null } : null,
    fallback: request.fallback ? { afterMs: request.fallback.after * 1000, channels: request.fallback.channels } : null,
  };
}
