import { expect, test } from "bun:test";
import type { WebPushCredentials } from "../core/channels.ts";
import { startWebPushReceiver } from "../test-support/receivers/web-push-receiver.ts";
import { channelContract, sampleMessage } from "./channel.contract.ts";
import { createWebPushAdapter, topicOf } from "./web-push.ts";
import webpush from "web-push";
import { createECDH, randomBytes } from "node:crypto";

const vapid = (): WebPushCredentials => {
  const keys = webpush.generateVAPIDKeys();
  return { vapidPublicKey: keys.publicKey, vapidPrivateKey: keys.privateKey, subject: "mailto:ops@example.com" };
};

channelContract("web push", async () => {
  const credentials = vapid();
  const receiver = await startWebPushReceiver(credentials.vapidPublicKey);
  const adapter = createWebPushAdapter({ credentials, ca: receiver.ca, timeoutMs: 1500 });
  const endpoint = receiver.subscribe();
  const gone = receiver.subscribe();
  receiver.unsubscribe(gone);
  return {
    adapter,
    endpoint,
    goneEndpoint: gone,
    sendWhileDown: (m) => adapter.send({ ...endpoint, endpoint: "https://127.0.0.1:9/push/x" }, m),
    failNext: receiver.failNext,
    received: () => {
      expect(receiver.failures).toEqual([]);
      return receiver.received();
    },
    retryAfter: true,
    async [Symbol.asyncDispose]() {
      await adapter.close();
      await receiver[Symbol.asyncDispose]();
    },
  };
});

test("priority, ttl and collapse key become Urgency, TTL and Topic; a long key is hashed to a valid Topic", async () => {
  const credentials = vapid();
  await using receiver = await startWebPushReceiver(credentials.vapidPublicKey);
  const adapter = createWebPushAdapter({ credentials, ca: receiver.ca });
  const endpoint = receiver.subscribe();
  await adapter.send(endpoint, sampleMessage({ priority: "low", ttlSeconds: 90, collapseKey: "score" }));
  await adapter.send(endpoint, sampleMessage({ priority: "high", ttlSeconds: null, collapseKey: "a key with spaces that is far longer than thirty-two characters" }));
  expect(receiver.failures).toEqual([]);
  const [first, second] = receiver.accepted;
  expect([first!.headers.get("urgency"), first!.headers.get("ttl"), first!.headers.get("topic")]).toEqual(["low", "90", "score"]);
  expect([second!.headers.get("urgency"), second!.headers.get("ttl")]).toEqual(["high", "2419200"]);
  expect(second!.headers.get("topic")).toBe(topicOf("a key with spaces that is far longer than thirty-two characters"));
  expect(second!.headers.get("topic")).toMatch(/^[A-Za-z0-9_-]{32}$/);
});

test("an oversized payload is rejected without a request; a VAPID key the app did not configure is refused by the receiver", async () => {
  const credentials = vapid();
  await using receiver = await startWebPushReceiver(credentials.vapidPublicKey);
  const adapter = createWebPushAdapter({ credentials, ca: receiver.ca });
  const endpoint = receiver.subscribe();
  expect(await adapter.send(endpoint, sampleMessage({ data: "x".repeat(5000) }))).toEqual({ kind: "rejected", reason: "payload_too_large" });
  expect(receiver.accepted).toHaveLength(0);
  const stranger = createWebPushAdapter({ credentials: vapid(), ca: receiver.ca });
  const refused = await stranger.send(endpoint, sampleMessage());
  expect(refused.kind).toBe("rejected");
  expect(receiver.failures[0]).toContain("not the VAPID public key");
});

test("VAPID keys pasted with base64 padding still sign; keys that cannot sign are the app's problem, never the subscription's", async () => {
  const credentials = vapid();
  await using receiver = await startWebPushReceiver(credentials.vapidPublicKey);
  const endpoint = receiver.subscribe();
  const padded = createWebPushAdapter({ credentials: { ...credentials, vapidPublicKey: `${credentials.vapidPublicKey}=`, vapidPrivateKey: `${credentials.vapidPrivateKey}=` }, ca: receiver.ca });
  expect(await padded.send({ ...endpoint, p256dh: `${endpoint.p256dh}=` }, sampleMessage())).toMatchObject({ kind: "accepted" });
  expect(receiver.failures).toEqual([]);
  expect(receiver.received()).toHaveLength(1);

  // A private key web-push cannot sign with: refused here, before any request.
  const unsigned = await createWebPushAdapter({ credentials: { ...credentials, vapidPrivateKey: "dG9vLXNob3J0" }, ca: receiver.ca }).send(endpoint, sampleMessage());
  expect(unsigned.kind).toBe("rejected");
  expect((unsigned as { reason: string }).reason).toStartWith("vapid_credentials_invalid: ");
  // 65 bytes but not a point on P-256: signed, and refused by the push service; still not the subscription's fault.
  const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString("base64url");
  expect((await createWebPushAdapter({ credentials: { ...credentials, vapidPublicKey: offCurve }, ca: receiver.ca }).send(endpoint, sampleMessage())).kind).toBe("rejected");
  expect(receiver.received()).toHaveLength(1);
});

test("an endpoint that is no push service's URL is the subscription's fault; keys that cannot sign are found first, whatever the subscription", async () => {
  const credentials = vapid();
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const keys = { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
  const adapter = createWebPushAdapter({ credentials });
  for (const endpoint of ["mailto:someone@example.com", "data:,x", "not a url"]) {
    expect(await adapter.send({ kind: "webpush", endpoint, ...keys }, sampleMessage())).toMatchObject({ kind: "gone", reason: expect.stringMatching(/^bad_subscription: /) });
  }
  // Keys that cannot sign fail every subscription alike: no subscription is removed for them, even one that is malformed too.
  for (const bad of [{ vapidPrivateKey: "dG9vLXNob3J0" }, { subject: "ops@example.com" }]) {
    const unsigned = createWebPushAdapter({ credentials: { ...credentials, ...bad } });
    for (const endpoint of ["https://push.example/x", "not a url"]) {
      expect(await unsigned.send({ kind: "webpush", endpoint, ...keys }, sampleMessage())).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/^vapid_credentials_invalid: /) });
    }
  }
});
