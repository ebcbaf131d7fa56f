// Signing webhook deliveries, and when to try one again. Web Crypto only: core imports no runtime.
//
//   Pushmesh-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=<hex>]
//
// The timestamp is inside what is signed, so a captured delivery cannot be replayed later with a
// fresh `t`. During a secret's rotation both the new and the previous secret sign (two v1
// entries, the new one first), so a receiver holding either accepts, as in Stripe's scheme.
// Every delivery also carries Pushmesh-Event-Id: deliveries are at least once, and a receiver
// drops an id it has already handled.

export const SIGNATURE_HEADER = "Pushmesh-Signature";
export const EVENT_ID_HEADER = "Pushmesh-Event-Id";
/** How far a signature's `t` may be from the receiver's clock, either way, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();
const toHex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const SHA256_HEX = /^[0-9a-f]{64}$/;

async function hmac(secret: string, message: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", key, encoder.encode(message));
}

/** 32 random bytes, base64url, marked `whsec_` so a leaked one is recognisable. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** The header value for `body` sent at `nowMs`, one v1 per secret in the order given (current first). */
export async function signWebhook(body: string, secrets: string[], nowMs: number): Promise<string> {
  if (secrets.length === 0) throw new TypeError("signWebhook needs at least one secret");
  const t = Math.floor(nowMs / 1000);
  const signatures = await Promise.all(secrets.map(async (s) => toHex(await hmac(s, `${t}.${body}`))));
  return [`t=${t}`, ...signatures.map((s) => `v1=${s}`)].join(",");
}

/** Equal strings of equal length, in time that depends on the length only. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * True when one v1 entry of `header` is the HMAC of `body` under `secret`, and its `t` is within
 * `toleranceSeconds` of `nowMs` (either way: a clock far ahead is as suspect as a stale one).
 * False for anything else: no or several `t`, a `t` that is not whole seconds, no v1, a v1 that
 * is not 64 lower-case hex digits, or an entry that is neither `t` nor a version `v<n>`. Entries of
 * other versions (`v0`, `v2`) are never accepted; they are skipped, so a later scheme can sign
 * beside v1 without failing receivers that know only v1.
 */
export async function verifyWebhook(body: string, header: string, secret: string, options: { toleranceSeconds?: number; nowMs?: number } = {}): Promise<boolean> {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs = options.nowMs ?? Date.now();
  let timestamp: string | null = null;
  const v1: string[] = [];
  for (const entry of header.split(",")) {
    const equals = entry.indexOf("=");
    const [key, value] = equals < 0 ? [entry, ""] : [entry.slice(0, equals).trim(), entry.slice(equals + 1).trim()];
    if (key === "t") {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return false;
      timestamp = value;
    } else if (key === "v1") {
      if (!SHA256_HEX.test(value)) return false;
      v1.push(value);
    } else if (!/^v\d+$/.test(key) || value === "") {
      return false;
    }
  }
  if (timestamp === null || v1.length === 0 || secret === "") return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > tolerance) return false;
  const expected = toHex(await hmac(secret, `${timestamp}.${body}`));
  // Every entry is compared, matched or not, so the time taken says nothing about which matched.
  let matched = false;
  for (const signature of v1) matched = constantTimeEqual(signature, expected) || matched;
  return matched;
}

export const WEBHOOK_RETRY_BASE_MS = 10_000;
export const WEBHOOK_RETRY_CAP_MS = 3_600_000;
/** Retries go on until the first attempt is this old; the last one lands at or after it. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3_600_000;
/** Each delay is shortened by up to this fraction at random, so failed endpoints' retries spread out. */
const JITTER = 0.1;

/**
 * The schedule, without jitter: a try that fails after n earlier failures is followed by the next
 * min(base · 2^n, 1 h) later. With the 10 s base: 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, 640 s,
 * 1280 s, 2560 s (85 min 10 s in all so far), then every hour. The first attempt at time 0 is
 * followed by 32 retries; the last lands at 24 h 25 min 10 s, the first past 24 h. Jitter shortens
 * each delay by up to 10 %, never lengthens it, so no delay exceeds the hour; it can add a retry.
 * `webhookRetryDelays` lists these delays; `nextWebhookAttempt` applies them, with jitter.
 */
export function webhookRetryDelays(baseMs = WEBHOOK_RETRY_BASE_MS): number[] {
  const delays: number[] = [];
  for (let elapsed = 0; elapsed < WEBHOOK_RETRY_WINDOW_MS; ) {
    const delay = Math.min(WEBHOOK_RETRY_CAP_MS, baseMs * 2 ** delays.length);
    delays.push(delay);
    elapsed += delay;
  }
  return delays;
}

/**
 * When to try a delivery again, now that a try failed at `now`: a time in ms, or null once the
 * first try (`firstAttemptAt`) is 24 h old or more. `attempts` counts the tries that failed before
 * this one (0 when the first try has just failed) and picks the delay from the schedule above.
 */
export function nextWebhookAttempt(firstAttemptAt: number, attempts: number, now: number, baseMs = WEBHOOK_RETRY_BASE_MS, random: () => number = Math.random): number | null {
  if (now - firstAttemptAt >= WEBHOOK_RETRY_WINDOW_MS) return null;
  const delay = Math.min(WEBHOOK_RETRY_CAP_MS, baseMs * 2 ** Math.max(0, attempts));
  return now + Math.round(delay * (1 - JITTER * random()));
}
