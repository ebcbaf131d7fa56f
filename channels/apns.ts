// APNs over HTTP/2 with token auth (an ES256 JWT made from the app's .p8 key with jose), as Apple
// documents it: POST /3/device/<token>, apns-topic, apns-push-type, apns-priority, apns-expiration,
// apns-collapse-id. The JWT is reused for 50 minutes (APNs refuses one older than an hour and one
// renewed more often than every 20 minutes) and made again when APNs says it expired.
import { createHash } from "node:crypto";
import { importPKCS8, SignJWT } from "jose";
import type { ApnsCredentials, ApnsEndpoint, ChannelAdapter, ChannelMessage, ChannelOutcome } from "../core/channels.ts";
import { retryAfterMs } from "../core/channels.ts";
import { Http2Client } from "./http2-client.ts";

export type ApnsOptions = { credentials: ApnsCredentials; host?: string; sandboxHost?: string; ca?: string; timeoutMs?: number; now?: () => number };

const TOKEN_LIFETIME_MS = 50 * 60_000;
const MAX_PAYLOAD = 4096;

export function createApnsAdapter(options: ApnsOptions): ChannelAdapter<ApnsEndpoint> {
  const now = options.now ?? Date.now;
  const client = new Http2Client({ ca: options.ca, timeoutMs: options.timeoutMs ?? 10_000 });
  // One token at a time, shared by concurrent sends; made again only when it is old or APNs refused
  // this very token, so a burst of ExpiredProviderToken answers makes one new token, not one each
  // (APNs answers TooManyProviderTokenUpdates to more than one renewal in 20 minutes).
  let token: Promise<{ jwt: string; at: number }> | null = null;
  const makeToken = async () => {
    const key = await importPKCS8(options.credentials.privateKey, "ES256");
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: options.credentials.keyId }).setIssuer(options.credentials.teamId).setIssuedAt(Math.floor(now() / 1000)).sign(key);
    return { jwt, at: now() };
  };
  const providerToken = async (refused?: string): Promise<string> => {
    const current = token && (await token.catch(() => null));
    if (!current || now() - current.at >= TOKEN_LIFETIME_MS || current.jwt === refused) {
      if (!token || (await token.catch(() => null)) === current) token = makeToken();
    }
    return (await token!).jwt;
  };
  const post = async (endpoint: ApnsEndpoint, message: ChannelMessage, body: string, jwt: string) => {
    const origin = endpoint.sandbox ? (options.sandboxHost ?? "https://api.sandbox.push.apple.com") : (options.host ?? "https://api.push.apple.com");
    return client.request(origin, { ...headersOf(endpoint, message, now()), authorization: `bearer ${jwt}` }, body);
  };
  return {
    kind: "apns",
    async send(endpoint, message) {
      const body = JSON.stringify(bodyOf(message));
      if (Buffer.byteLength(body) > MAX_PAYLOAD) return { kind: "rejected", reason: "payload_too_large" };
      try {
        const jwt = await providerToken();
        let answer = await post(endpoint, message, body, jwt);
        if (answer.status === 403 && reasonOf(answer.body) === "ExpiredProviderToken") answer = await post(endpoint, message, body, await providerToken(jwt));
        return outcomeOf(answer.status, answer.headers, answer.body);
      } catch (error) {
        return { kind: "retry", reason: `unreachable: ${(error as Error).message}`, afterMs: null };
      }
    },
    close: () => client.close(),
  };
}

function headersOf(endpoint: ApnsEndpoint, m: ChannelMessage, now: number): Record<string, string> {
  const alert = m.title !== null || m.body !== null;
  const headers: Record<string, string> = {
    ":method": "POST",
    ":path": `/3/device/${endpoint.token}`,
    "apns-topic": endpoint.topic,
    "apns-push-type": alert ? "alert" : "background",
    // Background pushes must be 5; 10 wakes the device at once.
    "apns-priority": alert && m.priority === "high" ? "10" : "5",
    "apns-id": apnsId(m.messageId, m.deviceId),
    "content-type": "application/json",
  };
  if (m.ttlSeconds !== null) headers["apns-expiration"] = String(m.ttlSeconds === 0 ? 0 : Math.floor(now / 1000) + m.ttlSeconds);
  if (m.collapseKey !== null) headers["apns-collapse-id"] = Buffer.byteLength(m.collapseKey) <= 64 ? m.collapseKey : createHash("sha256").update(m.collapseKey).digest("hex").slice(0, 64);
  return headers;
}

/** The same message to the same device is the same apns-id: APNs and its logs can tell a resend. */
function apnsId(messageId: string, deviceId: string): string {
  const h = createHash("sha256").update(`${messageId}\u0000${deviceId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

export function bodyOf(m: ChannelMessage) {
  const alert = m.title !== null || m.body !== null;
  return {
    aps: alert ? { alert: { ...(m.title === null ? {} : { title: m.title }), ...(m.body === null ? {} : { body: m.body }) } } : { "content-available": 1 },
    pushmesh: { messageId: m.messageId, seq: m.seq, data: m.data ?? null, priority: m.priority, sentAt: m.sentAt },
  };
}

const reasonOf = (body: string): string => {
  try {
    return String((JSON.parse(body) as { reason?: string }).reason ?? "");
  } catch {
    return "";
  }
};

function outcomeOf(status: number, headers: Record<string, string>, body: string): ChannelOutcome {
  if (status === 200) return { kind: "accepted", providerId: headers["apns-id"] ?? null };
  const reason = reasonOf(body) || `HTTP ${status}`;
  if (status === 410 || reason === "BadDeviceToken" || reason === "DeviceTokenNotForTopic" || reason === "Unregistered") return { kind: "gone", reason };
  if (status === 429 || status >= 500) return { kind: "retry", reason, afterMs: retryAfterMs(headers["retry-after"], Date.now()) };
  if (status === 403) return { kind: "rejected", reason: `auth_failed: ${reason}` };
  if (status === 413) return { kind: "rejected", reason: `payload_too_large: ${reason}` };
  return { kind: "rejected", reason };
}
