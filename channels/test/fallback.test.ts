// The fallback end to end: a mesh, a real SMTP server as the provider, devices with and without a
// socket. A device without a socket is reached at once; one that acks on its socket gets no mail;
// one whose socket does not ack within `after` gets it then; a dead address is removed.
import { expect, test } from "bun:test";
import { FrameType } from "../../core/protocol.ts";
import { join } from "node:path";
import { connectDevice, startTestMesh, tempDir, type TestMesh, until } from "../../test-support/harness.ts";
import { startApnsReceiver } from "../../test-support/receivers/apns-receiver.ts";
import { startFcmReceiver } from "../../test-support/receivers/fcm-receiver.ts";
import { helloFrame, rawPeer } from "../../test-support/raw.ts";
import { startSmtpReceiver } from "../../test-support/receivers/smtp-receiver.ts";
import { startWebPushReceiver } from "../../test-support/receivers/web-push-receiver.ts";


async function withEmail(mesh: TestMesh, url: string, deviceId: string, address: string) {
  expect((await mesh.api("PUT", "/v1/app/channels/email", { url, from: "alerts@example.com" })).status).toBe(200);
  const device = await mesh.device(deviceId);
  expect((await mesh.api("PUT", `/v1/devices/${deviceId}/channels`, { endpoints: [{ kind: "email", address }] })).status).toBe(200);
  return device;
}

const fallbackSend = (mesh: TestMesh, deviceId: string, after: number) =>
  mesh.send(deviceId, { order: 7 }, { notification: { title: "Order shipped", body: "Order 7 is on its way" }, fallback: { after, channels: ["email"] } });

test("a device without a socket is reached at once; tracking shows the channel's answer", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  await withEmail(mesh, smtp.url, "away", "away@example.com");
  const sent = await fallbackSend(mesh, "away", 600);
  await until(() => smtp.mails.length === 1, "the mail");
  expect(smtp.received()).toEqual([{ messageId: sent.messageId, seq: 1, title: "Order shipped", body: "Order 7 is on its way", data: { order: 7 } }]);
  await until(async () => (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0].channels[0]?.state === "accepted", "tracking");
  const tracked = (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0];
  expect(tracked).toMatchObject({ deviceId: "away", state: "pending", channels: [{ kind: "email", state: "accepted" }], fallback: { state: "sent", attempts: 1 } });
});

test("a device that acks on its socket within `after` gets no mail", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  const creds = await withEmail(mesh, smtp.url, "here", "here@example.com");
  await using session = await connectDevice(mesh.ws, creds);
  await session.waitForEvent("connected");
  const sent = await fallbackSend(mesh, "here", 1);
  await session.waitFor(1);
  await until(async () => (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.states.delivered === 1, "the ack");
  await Bun.sleep(1_500);
  await mesh.fallback.runOnce();
  expect(smtp.mails).toEqual([]);
  const tracked = (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0];
  expect(tracked).toMatchObject({ channels: [], fallback: { state: "acked", channels: ["email"] } });
});

test("a socket that does not ack within `after` gets the mail then, and a dead address is removed", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  const creds = await withEmail(mesh, smtp.url, "silent", "silent@example.com");
  const peer = await rawPeer("ws", mesh);
  peer.sendFrames(helloFrame("silent", creds.token));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  const started = Date.now();
  const sent = await fallbackSend(mesh, "silent", 1);
  expect((await peer.nextFrame()).type).toBe(FrameType.PUSH);
  await until(() => smtp.mails.length === 1, "the mail");
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect(smtp.received()[0]!.messageId).toBe(sent.messageId);

  await mesh.device("moved");
  await mesh.api("PUT", "/v1/devices/moved/channels", { endpoints: [{ kind: "email", address: "old@gone.invalid" }] });
  const lost = await fallbackSend(mesh, "moved", 0);
  await until(async () => (await mesh.api("GET", "/v1/devices/moved/channels")).body.endpoints.length === 0, "the dead address removed");
  const tracked = (await mesh.api("GET", `/v1/messages/${lost.messageId}`)).body.recipients[0];
  expect(tracked.channels).toMatchObject([{ kind: "email", state: "gone" }]);
  expect(tracked.channels[0].reason).toContain("550");
});

test("credentials are sealed at rest and never answered; a channel without credentials is skipped", async () => {
  await using mesh = await startTestMesh();
  const url = "smtp://mailer:s3cret-pass@127.0.0.1:2525";
  const put = await mesh.api("PUT", "/v1/app/channels/email", { url, from: "alerts@example.com" });
  expect(put.body).toMatchObject({ kind: "email", shown: { from: "alerts@example.com", server: "smtp://127.0.0.1:2525", user: "mailer" } });
  const listed = await mesh.api("GET", "/v1/app/channels");
  expect(JSON.stringify(listed.body)).not.toContain("s3cret");
  const stored = await mesh.store.credentialsOf(mesh.appId, "email");
  expect(stored!.sealed).not.toContain("s3cret");
  expect((await mesh.api("PUT", "/v1/app/channels/email", { url: "http://nope", from: "x" })).status).toBe(400);
  expect((await mesh.api("DELETE", "/v1/app/channels/fcm")).body.error.code).toBe("CHANNEL_NOT_CONFIGURED");
  const vapid = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:ops@example.com" });
  expect(vapid.status).toBe(201);
  expect(vapid.body.shown.vapidPublicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
  expect(JSON.stringify(vapid.body)).not.toContain("vapidPrivateKey");

  await mesh.device("nowhere");
  await mesh.api("PUT", "/v1/devices/nowhere/channels", { endpoints: [{ kind: "fcm", token: "t-1" }] });
  // The app has no FCM credentials: nothing is tried, nothing is recorded.
  const fcmOnly = await mesh.send("nowhere", 1, { fallback: { after: 0, channels: ["fcm"] } });
  await Bun.sleep(300);
  await mesh.fallback.runOnce();
  expect((await mesh.api("GET", `/v1/messages/${fcmOnly.messageId}`)).body.recipients[0]).toMatchObject({ channels: [], fallback: { state: "no_endpoint" } });
});

test("Web Push: a browser subscription gets the message through the push service, encrypted and signed with the app's VAPID key", async () => {
  await using pushService = await startWebPushReceiver();
  await using mesh = await startTestMesh({ providerCaFile: pushService.caFile });
  const made = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:ops@example.com" });
  pushService.expectVapidKey(made.body.shown.vapidPublicKey);
  await mesh.device("browser");
  const subscription = pushService.subscribe();
  expect((await mesh.api("PUT", "/v1/devices/browser/channels", { endpoints: [subscription] })).status).toBe(200);
  const sent = await mesh.send("browser", { path: "/orders/7" }, {
    priority: "high",
    ttl: 600,
    collapseKey: "orders",
    notification: { title: "Order shipped", body: "Order 7 is on its way" },
    fallback: { after: 30, channels: ["webpush", "email"] },
  });
  await until(() => pushService.accepted.length === 1, "the push");
  expect(pushService.failures).toEqual([]);
  expect(pushService.received()).toEqual([{ messageId: sent.messageId, seq: 1, title: "Order shipped", body: "Order 7 is on its way", data: { path: "/orders/7" } }]);
  const headers = pushService.accepted[0]!.headers;
  expect([headers.get("urgency"), headers.get("topic")]).toEqual(["high", "orders"]);
  expect(Number(headers.get("ttl"))).toBeLessThanOrEqual(600);
  await until(async () => (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0].channels[0]?.state === "accepted", "tracking");
});

test("APNs then FCM, in order: a dead APNs token is removed and FCM takes the message", async () => {
  const { exportPKCS8, generateKeyPair } = await import("jose");
  const apnsKey = await generateKeyPair("ES256", { extractable: true });
  const fcmKey = await generateKeyPair("RS256", { extractable: true });
  const apnsCredentials = { keyId: "KEY1234567", teamId: "TEAM123456", privateKey: await exportPKCS8(apnsKey.privateKey) };
  const fcmCredentials = { projectId: "pm-test", clientEmail: "sender@pm-test.iam.gserviceaccount.com", privateKey: await exportPKCS8(fcmKey.privateKey) };
  await using apns = await startApnsReceiver({ publicKey: apnsKey.publicKey, ...apnsCredentials });
  await using fcm = await startFcmReceiver({ publicKey: fcmKey.publicKey, ...fcmCredentials });
  using dir = tempDir();
  const caFile = join(dir.path, "providers.pem");
  await Bun.write(caFile, apns.ca + fcm.ca);
  await using mesh = await startTestMesh({ providerCaFile: caFile, apnsUrl: apns.origin, apnsSandboxUrl: apns.origin, fcmUrl: fcm.origin, fcmTokenUrl: fcm.tokenUrl });
  expect((await mesh.api("PUT", "/v1/app/channels/apns", apnsCredentials)).status).toBe(200);
  expect((await mesh.api("PUT", "/v1/app/channels/fcm", fcmCredentials)).status).toBe(200);
  await mesh.device("phone");
  const dead = "ab".repeat(32);
  apns.goneToken(dead);
  await mesh.api("PUT", "/v1/devices/phone/channels", { endpoints: [{ kind: "apns", token: dead, topic: "com.example", sandbox: false }, { kind: "fcm", token: "fcm-1" }] });
  const fallback = { after: 0, channels: ["apns", "fcm"] };
  const sent = await mesh.send("phone", { n: 1 }, { fallback, notification: { title: "one" } });
  const second = await mesh.send("phone", { n: 2 }, { fallback, notification: { title: "two" } });
  await until(() => fcm.accepted.length === 2, "both messages through FCM");
  expect(fcm.failures).toEqual([]);
  expect(apns.failures).toEqual([]);
  expect(fcm.received().map((r) => r.messageId).sort()).toEqual([sent.messageId, second.messageId].sort());
  expect((await mesh.api("GET", "/v1/devices/phone/channels")).body.endpoints).toEqual([{ kind: "fcm", token: "fcm-1" }]);
  const tracked = (await mesh.api("GET", `/v1/messages/${second.messageId}`)).body.recipients[0];
  expect(tracked.channels.map((c: { kind: string; state: string }) => `${c.kind}:${c.state}`).sort()).toEqual(expect.arrayContaining(["fcm:accepted"]));
});

test("the app's default fallback serves sends that give none; fallback: null opts out", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  await withEmail(mesh, smtp.url, "away", "away@example.com");
  expect((await mesh.api("PUT", "/v1/app/fallback", { fallback: { after: 0, channels: ["email"] } })).body).toEqual({ fallback: { after: 0, channels: ["email"] } });
  const byDefault = await mesh.send("away", { n: 1 }, { notification: { title: "by default" } });
  const optedOut = await mesh.send("away", { n: 2 }, { notification: { title: "opted out" }, fallback: null });
  await until(() => smtp.mails.length === 1, "the default's mail");
  await mesh.fallback.runOnce();
  expect(smtp.received().map((r) => r.messageId)).toEqual([byDefault.messageId]);
  expect((await mesh.api("GET", `/v1/messages/${optedOut.messageId}`)).body.recipients[0].fallback).toBeNull();
});

test("a push service that never answers does not hold up socket delivery", async () => {
  await using pushService = await startWebPushReceiver();
  // Attempts hang for a minute: every socket message below arrives while they do.
  await using mesh = await startTestMesh({ providerCaFile: pushService.caFile, providerTimeoutMs: 60_000 });
  const made = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:ops@example.com" });
  pushService.expectVapidKey(made.body.shown.vapidPublicKey);
  pushService.setDelay(Infinity);
  for (let i = 0; i < 20; i++) {
    await mesh.device(`away-${i}`);
    await mesh.api("PUT", `/v1/devices/away-${i}/channels`, { endpoints: [pushService.subscribe()] });
    await mesh.send(`away-${i}`, { i }, { fallback: { after: 0, channels: ["webpush"] } });
  }
  const here = await mesh.device("here");
  await using session = await connectDevice(mesh.ws, here);
  const started = Date.now();
  for (let i = 0; i < 20; i++) await mesh.send("here", { i });
  await session.waitFor(20, 30_000);
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(await mesh.store.waitingFallbacks()).toBe(20);
  expect(pushService.accepted).toHaveLength(0);
  await mesh.fallback.stop().catch(() => undefined);
}, 90_000);

test("a provider that says 429, then 503, is tried again after its Retry-After and the backoff, and takes the message once", async () => {
  await using pushService = await startWebPushReceiver();
  await using mesh = await startTestMesh({ providerCaFile: pushService.caFile, fallbackRetryBaseMs: 100, fallbackPollMs: 50 });
  const made = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:ops@example.com" });
  pushService.expectVapidKey(made.body.shown.vapidPublicKey);
  await mesh.device("tab");
  await mesh.api("PUT", "/v1/devices/tab/channels", { endpoints: [pushService.subscribe()] });
  pushService.failNext({ kind: "throttle", retryAfterSeconds: 1 });
  const started = Date.now();
  const sent = await mesh.send("tab", { n: 1 }, { fallback: { after: 0, channels: ["webpush"] } });
  await until(async () => (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0].channels[0]?.state === "retrying", "the retry recorded");
  pushService.failNext({ kind: "unavailable" });
  await until(() => pushService.accepted.length === 1, "the push after the retries");
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  const tracked = (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0];
  expect(tracked).toMatchObject({ channels: [{ kind: "webpush", state: "accepted" }], fallback: { state: "sent", attempts: 3 } });
  expect(pushService.failures).toEqual([]);
});

test("a provider's refusal by policy is the channel's answer, and the address stays", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  await withEmail(mesh, smtp.url, "guarded", "someone@policy.invalid");
  const sent = await fallbackSend(mesh, "guarded", 600);
  await until(async () => (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0].channels[0]?.state === "rejected", "the refusal");
  const tracked = (await mesh.api("GET", `/v1/messages/${sent.messageId}`)).body.recipients[0];
  expect(tracked.channels[0].reason).toStartWith("refused_by_policy: ");
  expect((await mesh.api("GET", "/v1/devices/guarded/channels")).body.endpoints).toEqual([{ kind: "email", address: "someone@policy.invalid" }]);
});
