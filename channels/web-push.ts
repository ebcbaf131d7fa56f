// Web Push (RFC 8030) with the web-push package: it encrypts the payload (RFC 8291, aes128gcm) and
// signs the VAPID JWT (RFC 8292); the request itself goes out with fetch, so the adapter owns its
// timeout and reads every answer. The payload carries the message id and seq for the SDK.
import { createHash } from "node:crypto";
import webpush from "web-push";
import { type ChannelAdapter, type ChannelMessage, type ChannelOutcome, retryAfterMs, type WebPushCredentials, type WebPushEndpoint } from "../core/channels.ts";

export type WebPushOptions = { credentials: WebPushCredentials; timeoutMs?: number; ca?: string };

/** Push services take at most 4096 bytes of encrypted body; aes128gcm adds 86 bytes of header and 17 of padding and tag. */
const MAX_PAYLOAD = 4096 - 103;
const FOUR_WEEKS = 2_419_200;

/** A VAPID JWT is good for up to 24 hours (RFC 8292): one per push service for 12, not one per message (an ECDSA signature each). */
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_RENEW_MS = 11 * 3600_000;

export function createWebPushAdapter(options: WebPushOptions): ChannelAdapter<WebPushEndpoint> {
  // Keys pasted with base64 padding are the same keys; web-push refuses them as they are.
  const credentials = { ...options.credentials, vapidPublicKey: unpadded(options.credentials.vapidPublicKey), vapidPrivateKey: unpadded(options.credentials.vapidPrivateKey) };
  // The keys are tried once, on a stand-in audience, before any subscription is looked at: what
  // fails then is the app's and would fail every subscription alike, so it must never remove one.
  let keysProblem: string | null | undefined;
  const credentialsProblem = (): string | null => {
    if (keysProblem === undefined) {
      try {
        webpush.getVapidHeaders("https://push.invalid", credentials.subject, credentials.vapidPublicKey, credentials.vapidPrivateKey, "aes128gcm", Math.floor(Date.now() / 1000) + 60);
        keysProblem = null;
      } catch (error) {
        keysProblem = (error as Error).message;
      }
    }
    return keysProblem;
  };
  const vapid = new Map<string, { authorization: string; until: number }>();
  const authorizationFor = (audience: string): string => {
    const now = Date.now();
    let known = vapid.get(audience);
    if (!known || known.until <= now) {
      const expiration = Math.floor(now / 1000) + VAPID_LIFETIME_S;
      const headers = webpush.getVapidHeaders(audience, credentials.subject, credentials.vapidPublicKey, credentials.vapidPrivateKey, "aes128gcm", expiration);
      known = { authorization: String(headers.Authorization), until: now + VAPID_RENEW_MS };
      if (vapid.size > 1000) vapid.clear();
      vapid.set(audience, known);
    }
    return known.authorization;
  };
  return {
    kind: "webpush",
    async send(endpoint, message) {
      const payload = JSON.stringify(pushPayload(message));
      if (Buffer.byteLength(payload) > MAX_PAYLOAD) return { kind: "rejected", reason: "payload_too_large" };
      const problem = credentialsProblem();
      if (problem !== null) return { kind: "rejected", reason: `vapid_credentials_invalid: ${problem}` };
      const audience = audienceOf(endpoint.endpoint);
      if (audience === null) return { kind: "gone", reason: "bad_subscription: the endpoint is not an http(s) URL" };
      let authorization: string;
      try {
        authorization = authorizationFor(audience);
      } catch (error) {
        // Keys and audience have both passed: what is left to fail is the keys, never the subscription.
        return { kind: "rejected", reason: `vapid_credentials_invalid: ${(error as Error).message}` };
      }
      let request: { endpoint: string; method: string; headers: Record<string, string | number>; body: Buffer | null };
      try {
        request = webpush.generateRequestDetails({ endpoint: endpoint.endpoint, keys: { p256dh: unpadded(endpoint.p256dh), auth: unpadded(endpoint.auth) } }, payload, {
          headers: { Authorization: authorization },
          TTL: message.ttlSeconds ?? FOUR_WEEKS,
          urgency: message.priority,
          ...(message.collapseKey === null ? {} : { topic: topicOf(message.collapseKey) }),
          contentEncoding: "aes128gcm",
        }) as never;
      } catch (error) {
        // A subscription key that is not a P-256 point cannot be encrypted to: the endpoint is unusable.
        return { kind: "gone", reason: `bad_subscription: ${(error as Error).message}` };
      }
      try {
        const res = await fetch(request.endpoint, {
          method: "POST",
          headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
          body: request.body ? new Uint8Array(request.body) : null,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
          ...(options.ca ? { tls: { ca: options.ca } } : {}),
        } as RequestInit);
        return await outcomeOf(res);
      } catch (error) {
        return { kind: "retry", reason: `unreachable: ${(error as Error).message}`, afterMs: null };
      }
    },
    async close() {},
  };
}

const unpadded = (key: string) => key.trim().replace(/=+$/, "");

/** The push service's origin, which the VAPID JWT is for; null for what is no push service's URL. */
function audienceOf(endpoint: string): string | null {
  const url = URL.canParse(endpoint) ? new URL(endpoint) : null;
  return url && (url.protocol === "https:" || url.protocol === "http:") ? url.origin : null;
}

/** What the service worker receives; browser/ reads these names. */
export function pushPayload(m: ChannelMessage) {
  return { messageId: m.messageId, seq: m.seq, title: m.title, body: m.body, data: m.data ?? null, priority: m.priority, sentAt: m.sentAt };
}

/** The Topic header is at most 32 characters of the URL-safe base64 alphabet: other keys are hashed to one. */
export function topicOf(collapseKey: string): string {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(collapseKey)) return collapseKey;
  return createHash("sha256").update(collapseKey).digest("base64url").slice(0, 32);
}

async function outcomeOf(res: Response): Promise<ChannelOutcome> {
  const text = (await res.text().catch(() => "")).slice(0, 200);
  if (res.status >= 200 && res.status < 300) return { kind: "accepted", providerId: res.headers.get("location") };
  const reason = `${res.status} ${text}`.trim();
  if (res.status === 404 || res.status === 410) return { kind: "gone", reason };
  if (res.status === 413) return { kind: "rejected", reason: `payload_too_large: ${reason}` };
  if (res.status === 429 || res.status >= 500) return { kind: "retry", reason, afterMs: retryAfterMs(res.headers.get("retry-after"), Date.now()) };
  return { kind: "rejected", reason };
}
