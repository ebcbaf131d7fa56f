import { expect, test } from "bun:test";
import { hashApiKey, newApiKey, newSecret, peekTokenApp, signDeviceToken, verifyDeviceToken } from "./auth.ts";

const claims = { appId: "app_1", deviceId: "phone", expiresAt: Date.now() + 60_000 };

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
