import { expect, test } from "bun:test";
import {
  EVENT_ID_HEADER,
  nextWebhookAttempt,
  newWebhookSecret,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhook,
  WEBHOOK_RETRY_CAP_MS,
  WEBHOOK_RETRY_WINDOW_MS,
  webhookRetryDelays,
} from "./webhook-signature.ts";

const body = '{"id":"evt_1","type":"message.acked","data":{"messageId":"m1"}}';
const at = 1_767_225_600_500; // 2026-01-01T00:00:00.500Z
const seconds = 1_767_225_600;

/** `openssl dgst -sha256 -hmac <key>` over `message`: an HMAC computed by other code than ours. */
async function opensslHmac(key: string, message: string): Promise<string> {
  const child = Bun.spawn(["openssl", "dgst", "-sha256", "-hmac", key], { stdin: new TextEncoder().encode(message), stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  expect(code).toBe(0);
  return out.trim().split(" ").at(-1)!;
}

test("the header is t and one v1 per secret, each the HMAC-SHA256 of t.body as openssl computes it", async () => {
  // The harness first, on RFC 4231's test case 2, so a wrong openssl invocation cannot agree with a wrong signer.
  expect(await opensslHmac("Jefe", "what do ya want for nothing?")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const header = await signWebhook(body, ["whsec_new", "whsec_old"], at);
  expect(header).toMatch(/^t=1767225600,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  const [, fresh, previous] = header.split(",");
  expect(fresh).toBe(`v1=${await opensslHmac("whsec_new", `${seconds}.${body}`)}`);
  expect(previous).toBe(`v1=${await opensslHmac("whsec_old", `${seconds}.${body}`)}`);
  expect(SIGNATURE_HEADER).toBe("Pushmesh-Signature");
  expect(EVENT_ID_HEADER).toBe("Pushmesh-Event-Id");
  await expect(signWebhook(body, [], at)).rejects.toThrow("at least one secret");
});

test("a signed body verifies within the tolerance, either side of the receiver's clock, and not beyond", async () => {
  const header = await signWebhook(body, ["s3cret"], at);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at })).toBe(true);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at + 299_000 })).toBe(true);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at - 299_000 })).toBe(true);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: (seconds + 301) * 1000 })).toBe(false);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: (seconds - 301) * 1000 })).toBe(false);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at + 3_600_000 })).toBe(false);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at + 3_600_000, toleranceSeconds: 7200 })).toBe(true);
  expect(await verifyWebhook(body, header, "s3cret", { nowMs: at + 10_000, toleranceSeconds: 5 })).toBe(false);
  // Without nowMs the clock is now: a header signed now verifies, one signed a day ago does not.
  expect(await verifyWebhook(body, await signWebhook(body, ["s3cret"], Date.now()), "s3cret")).toBe(true);
  expect(await verifyWebhook(body, await signWebhook(body, ["s3cret"], Date.now() - 86_400_000), "s3cret")).toBe(false);
});

test("a tampered body, a wrong secret, a changed signature or a moved timestamp fail", async () => {
  const header = await signWebhook(body, ["s3cret"], at);
  const verify = (b: string, h: string, secret = "s3cret") => verifyWebhook(b, h, secret, { nowMs: at });
  expect(await verify(body.replace("m1", "m2"), header)).toBe(false);
  expect(await verify(`${body} `, header)).toBe(false);
  expect(await verify(body, header, "s3cret2")).toBe(false);
  expect(await verify(body, header, "")).toBe(false);
  const signature = header.split("v1=")[1]!;
  const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
  expect(await verify(body, `t=${seconds},v1=${flipped}`)).toBe(false);
  // t is part of what is signed: the same signature under another t fails, even within tolerance.
  expect(await verify(body, `t=${seconds + 1},v1=${signature}`)).toBe(false);
});

test("malformed headers and unknown versions fail; other versions beside a good v1 are skipped", async () => {
  const header = await signWebhook(body, ["s3cret"], at);
  const signature = header.split("v1=")[1]!;
  const verify = (h: string) => verifyWebhook(body, h, "s3cret", { nowMs: at });
  expect(await verify(header)).toBe(true);
  expect(await verify(`t=${seconds}, v1=${signature}`)).toBe(true);
  for (const bad of [
    "",
    "garbage",
    `v1=${signature}`,
    `t=${seconds}`,
    `t=,v1=${signature}`,
    `t=${seconds}.5,v1=${signature}`,
    `t=-${seconds},v1=${signature}`,
    `t=${seconds},t=${seconds},v1=${signature}`,
    `t=${seconds},v1=${signature.toUpperCase()}`,
    `t=${seconds},v1=${signature.slice(2)}`,
    `t=${seconds},v1=`,
    `t=${seconds},v1=${signature},`,
    `t=${seconds},sig=${signature},v1=${signature}`,
    `t=${seconds},v2=${signature}`,
    `t=${seconds},v0=${signature}`,
  ]) {
    expect({ header: bad, valid: await verify(bad) }).toEqual({ header: bad, valid: false });
  }
  expect(await verify(`t=${seconds},v0=deadbeef,v1=${signature},v2=future`)).toBe(true);
});

test("during a rotation both secrets sign, and a receiver holding either accepts", async () => {
  const header = await signWebhook(body, ["whsec_current", "whsec_previous"], at);
  expect(await verifyWebhook(body, header, "whsec_current", { nowMs: at })).toBe(true);
  expect(await verifyWebhook(body, header, "whsec_previous", { nowMs: at })).toBe(true);
  expect(await verifyWebhook(body, header, "whsec_other", { nowMs: at })).toBe(false);
  expect(await verifyWebhook(body, await signWebhook(body, ["whsec_current"], at), "whsec_previous", { nowMs: at })).toBe(false);
});

test("secrets are whsec_ and 32 random bytes in base64url", () => {
  const secrets = Array.from({ length: 50 }, newWebhookSecret);
  for (const secret of secrets) {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const base64 = secret.slice(6).replace(/-/g, "+").replace(/_/g, "/");
    expect(Uint8Array.from(atob(`${base64}=`), (c) => c.charCodeAt(0)).length).toBe(32);
  }
  expect(new Set(secrets).size).toBe(50);
});

test("the schedule is 10 s doubling to an hour, until 24 h have passed", () => {
  const delays = webhookRetryDelays();
  const doubling = [10, 20, 40, 80, 160, 320, 640, 1280, 2560].map((s) => s * 1000);
  expect(delays).toEqual([...doubling, ...Array<number>(23).fill(3_600_000)]);
  const total = delays.reduce((a, b) => a + b, 0);
  expect(total).toBe(87_910_000); // 24 h 25 min 10 s: the last try is the first at or past 24 h
  expect(total - delays.at(-1)!).toBeLessThan(WEBHOOK_RETRY_WINDOW_MS);
  expect(webhookRetryDelays(100).slice(0, 3)).toEqual([100, 200, 400]);
});

/** A small seeded generator, so a failure repeats. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

test("nextWebhookAttempt with jitter: monotonic, within the cap, at most 10 % early, and over once 24 h have passed", () => {
  const nominal = webhookRetryDelays();
  for (const random of [() => 0, () => 0.999_999, seeded(1), seeded(2), Math.random]) {
    const first = 1_000_000;
    const tries = [first];
    for (;;) {
      const next = nextWebhookAttempt(first, tries.length - 1, tries.at(-1)!, undefined, random);
      if (next === null) break;
      tries.push(next);
      expect(tries.length).toBeLessThan(60);
    }
    const last = tries.at(-1)!;
    expect(last - first).toBeGreaterThanOrEqual(WEBHOOK_RETRY_WINDOW_MS);
    expect(tries.at(-2)! - first).toBeLessThan(WEBHOOK_RETRY_WINDOW_MS);
    for (let i = 1; i < tries.length; i++) {
      const delay = tries[i]! - tries[i - 1]!;
      const expected = nominal[Math.min(i - 1, nominal.length - 1)]!;
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(Math.min(expected, WEBHOOK_RETRY_CAP_MS));
      expect(delay).toBeGreaterThanOrEqual(Math.floor(expected * 0.9));
    }
  }
  // Without jitter the tries land exactly on the schedule: 32 retries after the first.
  const exact = [0];
  for (let next = nextWebhookAttempt(0, 0, 0, undefined, () => 0); next !== null; next = nextWebhookAttempt(0, exact.length - 1, exact.at(-1)!, undefined, () => 0)) exact.push(next);
  expect(exact.length).toBe(33);
  expect(exact.at(-1)).toBe(87_910_000);
  expect(nextWebhookAttempt(0, 0, WEBHOOK_RETRY_WINDOW_MS - 1, undefined, () => 0)).toBe(WEBHOOK_RETRY_WINDOW_MS - 1 + 10_000);
  expect(nextWebhookAttempt(0, 5, WEBHOOK_RETRY_WINDOW_MS)).toBeNull();
  expect(nextWebhookAttempt(0, 2, 0, 100, () => 0)).toBe(400);
  expect(nextWebhookAttempt(0, 5_000, 0, undefined, () => 0)).toBe(3_600_000);
});

test("docs/webhooks.md: its example header is what signWebhook gives, and its Node snippet accepts and refuses as it says", async () => {
  const doc = await Bun.file(new URL("../docs/webhooks.md", import.meta.url)).text();
  const example = await signWebhook('{"id":"evt_1","type":"message.acked"}', ["whsec_example"], 1_767_225_600_000);
  expect(doc).toContain(`Pushmesh-Signature: ${example}\n`);
  const snippet = doc.match(/```js\n([\s\S]*?)```/)?.[1];
  expect(snippet).toContain("verifyPushmeshSignature");
  const file = `${Bun.env.TMPDIR ?? "/tmp"}/pushmesh-webhook-snippet-${crypto.randomUUID()}.mjs`;
  await Bun.write(file, snippet!);
  try {
    const { verifyPushmeshSignature } = (await import(file)) as { verifyPushmeshSignature: (body: string, header: string, secret: string) => boolean };
    const header = await signWebhook(body, ["whsec_new", "whsec_old"], Date.now());
    expect(verifyPushmeshSignature(body, header, "whsec_new")).toBe(true);
    expect(verifyPushmeshSignature(body, header, "whsec_old")).toBe(true);
    expect(verifyPushmeshSignature(body, header, "whsec_other")).toBe(false);
    expect(verifyPushmeshSignature(`${body} `, header, "whsec_new")).toBe(false);
    expect(verifyPushmeshSignature(body, await signWebhook(body, ["whsec_new"], Date.now() - 600_000), "whsec_new")).toBe(false);
    expect(verifyPushmeshSignature(body, `${header},v2=future`, "whsec_new")).toBe(true);
    expect(verifyPushmeshSignature(body, header.replace(/^t=\d+,/, ""), "whsec_new")).toBe(false);
  } finally {
    await Bun.file(file).delete();
  }
});
