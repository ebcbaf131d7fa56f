import { expect, test } from "bun:test";
import { nextWebhookAttempt, newWebhookSecret, signWebhook } from "./webhook-signature.ts";

test("the signature is HMAC-SHA256 over t.body, as openssl computes it; a rotation signs with both secrets", async () => {
  const body = '{"id":"e1","type":"message.acked"}';
  const header = await signWebhook(body, ["whsec_new", "whsec_old"], 1_767_225_600_500);
  const [t, v1a, v1b] = header.split(",");
  expect(t).toBe("t=1767225600");
  for (const [secret, part] of [["whsec_new", v1a], ["whsec_old", v1b]] as const) {
    const openssl = Bun.spawnSync(["openssl", "dgst", "-sha256", "-hmac", secret], { stdin: new TextEncoder().encode(`1767225600.${body}`) });
    expect(part).toBe(`v1=${openssl.stdout.toString().trim().split(" ").at(-1)}`);
  }
});

test("secrets are random and marked; retries back off to an hour and stop after a day", () => {
  expect(newWebhookSecret()).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  expect(newWebhookSecret()).not.toBe(newWebhookSecret());
  const first = 0;
  expect(nextWebhookAttempt(first, 0, 0, 10_000, () => 0)).toBe(10_000);
  expect(nextWebhookAttempt(first, 3, 0, 10_000, () => 0)).toBe(80_000);
  expect(nextWebhookAttempt(first, 20, 0, 10_000, () => 0)).toBe(3_600_000);
  let at = 0;
  let attempts = 0;
  for (let next = nextWebhookAttempt(first, 0, at); next !== null; next = nextWebhookAttempt(first, ++attempts, at)) at = next;
  expect(at).toBeGreaterThanOrEqual(24 * 3600_000);
  expect(attempts).toBeLessThan(40);
});
