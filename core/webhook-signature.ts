// Signing webhook deliveries, and when to try again. The signature is HMAC-SHA256 over
// "<unix seconds>.<body>" with the endpoint's secret, sent as
//   Pushmesh-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]
// During a secret's rotation both the new and the previous secret sign (two v1 entries), so a
// receiver with either accepts. Web Crypto only: core imports no runtime.

export const SIGNATURE_HEADER = "Pushmesh-Signature";
export const EVENT_ID_HEADER = "Pushmesh-Event-Id";

const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export async function signWebhook(body: string, secrets: string[], nowMs: number): Promise<string> {
  const t = Math.floor(nowMs / 1000);
  const signatures = await Promise.all(secrets.map((s) => hmacHex(s, `${t}.${body}`)));
  return [`t=${t}`, ...signatures.map((s) => `v1=${s}`)].join(",");
}

/**
 * Backoff for the delivery after `attempts` failed ones: `baseMs` doubling to an hour, with up to
 * 10 % jitter; null once `firstAt` is more than a day ago (the last try lands after that day).
 */
export function nextWebhookAttempt(firstAt: number, attempts: number, now: number, baseMs = 10_000, random = Math.random): number | null {
  if (now - firstAt >= 24 * 3600_000) return null;
  const delay = Math.min(3600_000, baseMs * 2 ** attempts);
  return now + delay + Math.floor(delay * 0.1 * random());
}
