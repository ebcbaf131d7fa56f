// FCM HTTP v1 over HTTP/2: an OAuth2 access token from the service account (a JWT bearer grant
// signed RS256 with jose), kept until shortly before it expires and shared by concurrent sends;
// POST /v1/projects/<id>/messages:send with the message's data as strings, as FCM requires, and
// priority, TTL and collapse key mapped onto android, apns and webpush options.
import { importPKCS8, SignJWT } from "jose";
import type { ChannelAdapter, ChannelMessage, ChannelOutcome, FcmCredentials, FcmEndpoint } from "../core/channels.ts";
import { retryAfterMs } from "../core/channels.ts";
import { Http2Client } from "./http2-client.ts";

export type FcmOptions = { credentials: FcmCredentials; baseUrl?: string; tokenUrl?: string; ca?: string; timeoutMs?: number };

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

export function createFcmAdapter(options: FcmOptions): ChannelAdapter<FcmEndpoint> {
  const base = new URL(options.baseUrl ?? "https://fcm.googleapis.com");
  const tokenUrl = new URL(options.tokenUrl ?? "https://oauth2.googleapis.com/token");
  const client = new Http2Client({ ca: options.ca, timeoutMs: options.timeoutMs ?? 10_000 });
  let access: { token: string; until: number } | null = null;
  let refreshing: Promise<{ token: string; until: number }> | null = null;
  const accessToken = async (fresh = false) => {
    if (!fresh && access && access.until > Date.now()) return access.token;
    refreshing ??= fetchAccessToken(client, tokenUrl, options.credentials).finally(() => {
      refreshing = null;
    });
    access = await refreshing;
    return access.token;
  };
  const post = async (endpoint: FcmEndpoint, message: ChannelMessage, fresh: boolean) =>
    client.request(
      base.origin,
      { ":method": "POST", ":path": `/v1/projects/${encodeURIComponent(options.credentials.projectId)}/messages:send`, authorization: `Bearer ${await accessToken(fresh)}`, "content-type": "application/json" },
      JSON.stringify({ message: messageOf(endpoint, message) }),
    );
  return {
    kind: "fcm",
    async send(endpoint, message) {
      try {
        let answer = await post(endpoint, message, false);
        // An access token FCM no longer takes: one new one, one more try.
        if (answer.status === 401) answer = await post(endpoint, message, true);
        return outcomeOf(answer.status, answer.headers, answer.body);
      } catch (error) {
        // The service account itself was refused: no retry mends that; the app's credentials must change.
        if (error instanceof TokenRefused) return { kind: "rejected", reason: `auth_failed: ${error.message}` };
        return { kind: "retry", reason: `unreachable: ${(error as Error).message}`, afterMs: null };
      }
    },
    close: () => client.close(),
  };
}

class TokenRefused extends Error {}

async function fetchAccessToken(client: Http2Client, tokenUrl: URL, c: FcmCredentials): Promise<{ token: string; until: number }> {
  const key = await importPKCS8(c.privateKey, "RS256");
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(c.clientEmail)
    .setAudience(tokenUrl.href)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key);
  const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString();
  const answer = await client.request(tokenUrl.origin, { ":method": "POST", ":path": tokenUrl.pathname, "content-type": "application/x-www-form-urlencoded" }, body);
  if (answer.status === 400 || answer.status === 401 || answer.status === 403) throw new TokenRefused(`the token endpoint answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  if (answer.status !== 200) throw new Error(`the token endpoint answered ${answer.status}`);
  const { access_token, expires_in } = JSON.parse(answer.body) as { access_token: string; expires_in: number };
  // A minute early, so a token never expires on its way to FCM.
  return { token: access_token, until: Date.now() + (expires_in - 60) * 1000 };
}

export function messageOf(endpoint: FcmEndpoint, m: ChannelMessage) {
  const ttl = m.ttlSeconds === null ? {} : { ttl: `${m.ttlSeconds}s` };
  return {
    token: endpoint.token,
    ...(m.title !== null || m.body !== null ? { notification: { ...(m.title === null ? {} : { title: m.title }), ...(m.body === null ? {} : { body: m.body }) } } : {}),
    // FCM's data values are strings: the SDK's payload travels as one JSON string.
    data: { pushmesh: JSON.stringify({ messageId: m.messageId, seq: m.seq, data: m.data ?? null, priority: m.priority, sentAt: m.sentAt }) },
    android: { priority: m.priority === "high" ? "HIGH" : "NORMAL", ...ttl, ...(m.collapseKey === null ? {} : { collapse_key: m.collapseKey }) },
    // Apple refuses priority 10 for a push without an alert.
    apns: { headers: { "apns-priority": m.priority === "high" && (m.title !== null || m.body !== null) ? "10" : "5" } },
    webpush: { headers: { Urgency: m.priority, ...(m.ttlSeconds === null ? {} : { TTL: String(m.ttlSeconds) }) } },
  };
}

type FcmError = { error?: { code?: number; status?: string; message?: string; details?: { "@type"?: string; errorCode?: string }[] } };

function outcomeOf(status: number, headers: Record<string, string>, body: string): ChannelOutcome {
  if (status === 200) {
    // Taken is taken: an unreadable body must not turn a delivered message into a retry.
    try {
      return { kind: "accepted", providerId: (JSON.parse(body) as { name?: string }).name ?? null };
    } catch {
      return { kind: "accepted", providerId: null };
    }
  }
  let error: FcmError["error"] = {};
  try {
    error = (JSON.parse(body) as FcmError).error ?? {};
  } catch {
    // Not FCM's error shape: the status speaks.
  }
  const code = error.details?.find((d) => d["@type"]?.endsWith("FcmError"))?.errorCode ?? error.status ?? `HTTP ${status}`;
  const reason = `${code}: ${error.message ?? ""}`.trim();
  // Only FCM's own word that the token is dead removes it. A 404 without it (a project id that is
  // not the app's) and SENDER_ID_MISMATCH (credentials of another project) are about the app's
  // credentials: every token of the app would answer the same.
  if (code === "UNREGISTERED") return { kind: "gone", reason };
  if (code === "SENDER_ID_MISMATCH") return { kind: "rejected", reason: `sender_mismatch: ${reason}` };
  if (code === "INVALID_ARGUMENT" && /registration token/i.test(error.message ?? "")) return { kind: "gone", reason };
  if (status === 429 || status >= 500) return { kind: "retry", reason, afterMs: retryAfterMs(headers["retry-after"], Date.now()) };
  if (status === 401 || status === 403) return { kind: "rejected", reason: `auth_failed: ${reason}` };
  return { kind: "rejected", reason };
}
