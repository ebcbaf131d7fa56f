// The last mile: channels that reach a device when its socket is not there (Web Push, FCM, APNs,
// email). Each channel is one adapter in channels/, behind this interface and one contract suite
// (channels/channel.contract.ts). Adapters never throw for a provider's answer: every answer the
// providers document becomes an outcome the fallback queue acts on.
import type { PriorityName } from "./protocol.ts";

export const CHANNEL_KINDS = ["webpush", "fcm", "apns", "email"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** A browser's push subscription, as PushSubscription.toJSON() gives it (RFC 8030, RFC 8291). */
export type WebPushEndpoint = { kind: "webpush"; endpoint: string; p256dh: string; auth: string };
/** An FCM registration token. */
export type FcmEndpoint = { kind: "fcm"; token: string };
/** An APNs device token (hex), the app's bundle id as the topic, and which APNs environment issued it. */
export type ApnsEndpoint = { kind: "apns"; token: string; topic: string; sandbox: boolean };
export type EmailEndpoint = { kind: "email"; address: string };
export type ChannelEndpoint = WebPushEndpoint | FcmEndpoint | ApnsEndpoint | EmailEndpoint;

/** What tells two endpoints of one kind apart. */
export function endpointAddress(endpoint: ChannelEndpoint): string {
  if (endpoint.kind === "webpush") return endpoint.endpoint;
  if (endpoint.kind === "email") return endpoint.address.toLowerCase();
  return endpoint.token;
}

/** An app's credentials for each provider; never returned by the API. */
export type WebPushCredentials = { vapidPublicKey: string; vapidPrivateKey: string; subject: string };
/** From a Google service-account JSON file. */
export type FcmCredentials = { projectId: string; clientEmail: string; privateKey: string };
/** A .p8 token-signing key with its key id and the team id. */
export type ApnsCredentials = { keyId: string; teamId: string; privateKey: string };
/** `smtp://user:pass@host:port` or `smtps://…`, and the From address. */
export type EmailCredentials = { url: string; from: string };

/**
 * One message as a channel carries it. `messageId` and `seq` travel in the payload so the SDK can
 * drop a message it already handed to the app by another path (exactly once across channels).
 */
export type ChannelMessage = {
  appId: string;
  deviceId: string;
  messageId: string;
  /** The device's sequence number for this message; null for a topic message. */
  seq: number | null;
  priority: PriorityName;
  /** When the edge accepted the message, ms since the epoch. */
  sentAt: number;
  /** Seconds the provider may keep trying; null: the provider's maximum. */
  ttlSeconds: number | null;
  collapseKey: string | null;
  title: string | null;
  body: string | null;
  /** The message's data as JSON-able value. */
  data: unknown;
  /** The email variant; adapters other than email ignore it. Without it email uses title and body. */
  email?: { subject: string; text: string; html: string | null };
};

/**
 * What a provider said. `gone`: the endpoint is dead and is removed (410/404, Unregistered,
 * BadDeviceToken, a mailbox that does not exist). `retry`: try again later (429, 5xx, network),
 * after `afterMs` when the provider said (Retry-After). `rejected`: this message can never be
 * taken (too large, malformed); the endpoint stays.
 */
export type ChannelOutcome =
  | { kind: "accepted"; providerId: string | null }
  | { kind: "gone"; reason: string }
  | { kind: "retry"; reason: string; afterMs: number | null }
  | { kind: "rejected"; reason: string };

export interface ChannelAdapter<E extends ChannelEndpoint = ChannelEndpoint> {
  readonly kind: E["kind"];
  send(endpoint: E, message: ChannelMessage): Promise<ChannelOutcome>;
  close(): Promise<void>;
}

/** What a channel shows besides the data: a push's title and body (email uses them as subject and text). */
export type Notification = { title: string | null; body: string | null; email?: { subject: string; text: string; html: string | null } | null };

/** Deliver through `channels`, in order until one accepts, when the socket has not acked within `afterMs`. */
export type FallbackPolicy = { afterMs: number; channels: ChannelKind[] };

/** Reads a Retry-After header: seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
