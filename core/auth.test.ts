import { expect, test } from "bun:test";
import { base64url } from "./ids.ts";
import { hashApiKey, isRevoked, newApiKey, newSecret, peekTokenApp, signDeviceToken, verifyDeviceToken } from "./auth.ts";

const claims = { appId: "app_1", deviceId: "phone", expiresAt: Date.now() + 60_000, issuedAt: Date.now() };

test("a signed token verifies and names its app", async () => {
  const secret = newSecret();
  const token = await signDeviceToken(secret, claims);
  expect(peekTokenApp(token)).toBe("app_1");
  expect(await verifyDeviceToken(secret, token)).toEqual({ ok: true, claims });
});

test("another app's secret, a changed claim, or a past expiry fail with their reason", async () => {
  const secret = newSecret();
  const token = await signDeviceToken(secret, claims);
  expect(await verifyDeviceToken(newSecret(), token)).toEqual({ ok: false, reason: "TOKEN_INVALID" });
  const [, sig] = token.split(".");
  const otherBody = (await signDeviceToken(secret, { ...claims, deviceId: "other" })).split(".")[0];
  expect(await verifyDeviceToken(secret, `${otherBody}.${sig}`)).toEqual({ ok: false, reason: "TOKEN_INVALID" });
  const old = await signDeviceToken(secret, { ...claims, expiresAt: Date.now() - 1 });
  expect(await verifyDeviceToken(secret, old)).toEqual({ ok: false, reason: "TOKEN_EXPIRED" });
  for (const junk of ["", ".", "a.b.c", "%%%.%%%", "eyJ9.x"]) {
    expect((await verifyDeviceToken(secret, junk)).ok).toBe(false);
  }
});

test("a token carries when it was issued; one from before issue times existed reads as issued at 0, so a revocation covers it", async () => {
  const secret = newSecret();
  const check = await verifyDeviceToken(secret, await signDeviceToken(secret, { ...claims, issuedAt: 1234 }));
  expect(check.ok && check.claims.issuedAt).toBe(1234);
  const body = base64url(new TextEncoder().encode(JSON.stringify({ a: "app_1", d: "phone", e: claims.expiresAt })));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode(body)));
  const legacy = await verifyDeviceToken(secret, `${body}.${base64url(sig)}`);
  expect(legacy.ok && legacy.claims.issuedAt).toBe(0);
  expect(isRevoked(0, 5)).toBe(true);
  expect(isRevoked(5, 5)).toBe(true);
  expect(isRevoked(6, 5)).toBe(false);
  expect(isRevoked(0, null)).toBe(false);
});

test("API keys are random and hash to stable hex", async () => {
  const a = newApiKey();
  expect(a).toMatch(/^pm_[A-Za-z0-9_-]{32}$/);
  expect(a).not.toBe(newApiKey());
  expect(await hashApiKey(a)).toBe(await hashApiKey(a));
  expect(await hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
});

test("keys kept between checks never let one app's secret verify another's token, past the cache's bound too", async () => {
  const secrets = Array.from({ length: 1005 }, () => newSecret());
  const tokens = await Promise.all(secrets.map((s, i) => signDeviceToken(s, { ...claims, deviceId: `d${i}` })));
  for (const i of [0, 1, 1004, 0, 500, 1]) {
    expect((await verifyDeviceToken(secrets[i]!, tokens[i]!)).ok).toBe(true);
    expect(await verifyDeviceToken(secrets[(i + 1) % secrets.length]!, tokens[i]!)).toEqual({ ok: false, reason: "TOKEN_INVALID" });
  }
});
