// Device tokens and API keys. Tokens are HMAC-SHA256 signed with the app's own secret and bind
// app, device and expiry; the relay checks them without a store round trip beyond the app's secret.
import { base64url, fromBase64url, randomBytes, sha256Hex } from "./ids.ts";

/** `issuedAt` lets a revocation refuse every token issued up to it; tokens from before it was added read as issued at 0. */
export type TokenClaims = { appId: string; deviceId: string; expiresAt: number; issuedAt: number };

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: "TOKEN_INVALID" | "TOKEN_EXPIRED" };

/** Whether a device's tokens revoked at `revokedAt` (null: never) include one issued at `issuedAt`. */
export const isRevoked = (issuedAt: number, revokedAt: number | null): boolean => revokedAt !== null && issuedAt <= revokedAt;

const encoder = new TextEncoder();

/** Imported keys by secret: a relay checks every HELLO with one of a few secrets, and importing one each time cost as much as the HMAC. */
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_KEYS = 1000;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
    // A failed import is not kept: the next call tries again.
    key.catch(() => keys.delete(secret));
  }
  return key;
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function newSecret(): string {
  return base64url(randomBytes(32));
}

/** `issuedAt` defaults to now. */
export async function signDeviceToken(secret: string, claims: Omit<TokenClaims, "issuedAt"> & { issuedAt?: number }): Promise<string> {
  const issuedAt = claims.issuedAt ?? Date.now();
  const body = base64url(encoder.encode(JSON.stringify({ a: claims.appId, d: claims.deviceId, e: claims.expiresAt, i: issuedAt })));
  return `${body}.${base64url(await hmac(secret, body))}`;
}

/** Reads the claims without trusting them: which app's secret to verify with. */
export function peekTokenApp(token: string): string | null {
  const claims = parseBody(token.split(".")[0] ?? "");
  return claims?.appId ?? null;
}

function parseBody(body: string): TokenClaims | null {
  try {
    const raw: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(body)));
    if (typeof raw !== "object" || raw === null) return null;
    const { a, d, e, i } = raw as Record<string, unknown>;
    if (typeof a !== "string" || typeof d !== "string" || typeof e !== "number" || (i !== undefined && typeof i !== "number")) return null;
    return { appId: a, deviceId: d, expiresAt: e, issuedAt: i ?? 0 };
  } catch {
    // Any decoding failure means the token is not one we issued.
    return null;
  }
}

export async function verifyDeviceToken(secret: string, token: string, now = Date.now()): Promise<TokenCheck> {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return { ok: false, reason: "TOKEN_INVALID" };
  const claims = parseBody(body);
  if (!claims) return { ok: false, reason: "TOKEN_INVALID" };
  let given: Uint8Array;
  try {
    given = fromBase64url(sig);
  } catch {
    return { ok: false, reason: "TOKEN_INVALID" };
  }
  if (!equalBytes(given, await hmac(secret, body))) return { ok: false, reason: "TOKEN_INVALID" };
  if (claims.expiresAt <= now) return { ok: false, reason: "TOKEN_EXPIRED" };
  return { ok: true, claims };
}

export const API_KEY_PREFIX = "pm_";
/** Operator credentials look different from app keys, so neither is ever taken for the other. */
export const OPERATOR_KEY_PREFIX = "po_";

export function newApiKey(): string {
  return `${API_KEY_PREFIX}${base64url(randomBytes(24))}`;
}

export function newOperatorKey(): string {
  return `${OPERATOR_KEY_PREFIX}${base64url(randomBytes(24))}`;
}

/**
 * A key derived from a stored secret: the same secret always gives the same key, so a process can
 * print a working key at every start while the store keeps only the secret (the demo app's key,
 * the one-process mesh's operator key).
 */
export async function deriveKey(prefix: string, secret: string, label: string): Promise<string> {
  return `${prefix}${base64url((await hmac(secret, label)).slice(0, 24))}`;
}

/** Whether `given` is one of `known`, comparing digests so the time taken says nothing about either. */
export async function isOneOf(given: string, known: readonly string[]): Promise<boolean> {
  const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
  const mine = await digest(given);
  let found = false;
  for (const key of known) if (equalBytes(mine, await digest(key))) found = true;
  return found;
}

export const hashApiKey = sha256Hex;
