// Identifiers. Web Crypto only, so the same code runs on Bun, Deno and worker runtimes.

const BASE32 = "0123456789abcdefghjkmnpqrstvwxyz";
/** Two hex digits per byte value: every message id and hash is formatted on the send path. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function hexOf(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return hex;
}

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Crockford base32 of n random bytes' worth of entropy: URL-safe, case-free, no look-alikes. */
export function randomId(prefix: string, bytes = 12): string {
  // One flat string: built with += it stays a rope of many cells, and a session keeps its id
  // for as long as it is connected.
  const codes = [...prefix].map((c) => c.charCodeAt(0));
  codes.push(95); // "_"
  for (const b of randomBytes(bytes)) codes.push(BASE32.charCodeAt(b & 31));
  return String.fromCharCode(...codes);
}

/** UUIDv7 (RFC 9562): time-ordered, so new messages append to the end of the index. */
export function uuidv7(now = Date.now()): string {
  const b = randomBytes(16);
  b[0] = Math.floor(now / 2 ** 40) & 0xff;
  b[1] = Math.floor(now / 2 ** 32) & 0xff;
  b[2] = (now >>> 24) & 0xff;
  b[3] = (now >>> 16) & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = hexOf(b);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A positive 31-bit integer; device epochs. */
export function randomEpoch(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return (n! >>> 1) || 1;
}

export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  return hexOf(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
