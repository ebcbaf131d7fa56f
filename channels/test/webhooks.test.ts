// Webhooks end to end: an ack, a fallback sent and an endpoint removed reach the app's receiver,
// signed; a receiver that is down gets them later, once each; the queue outlives a restart; a
// rotated secret signs beside the old one.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh, tempDir, until } from "../../test-support/harness.ts";
import { startSmtpReceiver } from "../../test-support/receivers/smtp-receiver.ts";
import { startWebhookReceiver } from "../../test-support/receivers/webhook-receiver.ts";

const fast = { webhookRetryBaseMs: 100, webhookPollMs: 50 };


test("an ack, a fallback sent and a removed endpoint are posted signed; a receiver that was down gets each once", async () => {
  await using hooks = await startWebhookReceiver();
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh(fast);
  const made = await mesh.api("POST", "/v1/app/webhooks", { url: hooks.url, events: ["message.acked", "fallback.sent", "endpoint.removed"] });
  expect(made.status).toBe(201);
  expect(made.body.secret).toMatch(/^whsec_/);
  expect(JSON.stringify((await mesh.api("GET", "/v1/app/webhooks")).body)).not.toContain(made.body.secret);
  hooks.trust(made.body.secret);
  hooks.failNext(3);

  const phone = await mesh.device("phone");
  await using session = await connectDevice(mesh.ws, phone);
  const acked = await mesh.send("phone", { n: 1 });
  await session.waitFor(1);
  await mesh.api("PUT", "/v1/app/channels/email", { url: smtp.url, from: "shop@example.com" });
  await mesh.device("away");
  await mesh.api("PUT", "/v1/devices/away/channels", { endpoints: [{ kind: "email", address: "away@example.com" }] });
  const mailed = await mesh.send("away", { n: 2 }, { fallback: { after: 0, channels: ["email"] } });
  await mesh.device("moved");
  await mesh.api("PUT", "/v1/devices/moved/channels", { endpoints: [{ kind: "email", address: "x@gone.invalid" }] });
  await mesh.send("moved", { n: 3 }, { fallback: { after: 0, channels: ["email"] } });

  await until(() => hooks.events.length >= 3, "three events");
  await Bun.sleep(300);
  expect(hooks.refused).toEqual([]);
  expect(hooks.attempts()).toBeGreaterThan(3);
  const byType = Object.fromEntries(hooks.events.map((e) => [e.type, e]));
  expect(hooks.events).toHaveLength(3);
  expect(byType["message.acked"]!.data).toMatchObject({ messageId: acked.messageId, deviceId: "phone", seq: 1 });
  expect(byType["fallback.sent"]!.data).toMatchObject({ messageId: mailed.messageId, deviceId: "away", channel: "email" });
  expect(byType["endpoint.removed"]!.data).toMatchObject({ kind: "email", address: "x@gone.invalid" });
  expect(new Set(hooks.events.map((e) => e.id)).size).toBe(3);
});

test("the queue outlives a restart, and a rotated secret signs beside the old one", async () => {
  await using hooks = await startWebhookReceiver();
  using dir = tempDir();
  let secret: string;
  {
    await using mesh = await startTestMesh(fast, dir.path);
    secret = (await mesh.api("POST", "/v1/app/webhooks", { url: hooks.url, events: ["message.acked"] })).body.secret;
    await mesh.webhooks.stop();
    const phone = await mesh.device("phone");
    await using session = await connectDevice(mesh.ws, phone);
    await mesh.send("phone", { n: 1 });
    await session.waitFor(1);
    await until(async () => (await mesh.store.waitingWebhookEvents()) === 1, "the event queued");
  }
  hooks.trust(secret);
  {
    await using mesh = await startTestMesh(fast, dir.path);
    await until(() => hooks.events.length === 1, "the queued event after the restart");
    const id = (await mesh.api("GET", "/v1/app/webhooks")).body.webhooks[0].id;
    const rotated = await mesh.api("POST", `/v1/app/webhooks/${id}/rotate-secret`, { graceSeconds: 60 });
    expect(rotated.body.secret).not.toBe(secret);
    hooks.trust(rotated.body.secret);
    const phone = await mesh.device("phone");
    await using session = await connectDevice(mesh.ws, phone);
    await mesh.send("phone", { n: 2 });
    await session.waitFor(2);
    await until(() => hooks.events.length === 2, "an event after the rotation");
    expect(hooks.events[1]!.signatures).toBe(2);
    hooks.trust(secret);
    expect((await mesh.api("DELETE", `/v1/app/webhooks/${id}`)).status).toBe(204);
    expect((await mesh.api("DELETE", `/v1/app/webhooks/${id}`)).body.error.code).toBe("WEBHOOK_NOT_FOUND");
  }
  expect(hooks.refused).toEqual([]);
});
