// Exactly once to the app across channels: a message that reaches the device SDK through Web Push
// first is handed over once; when the socket comes back its copy is acked, not handed over again,
// and tracking shows it delivered. A message the socket delivered first is not handed over again
// when its push arrives late.
import { expect, test } from "bun:test";
import { MemoryStateStore, PushClient, type ReceivedMessage } from "../../core/client/client.ts";
import { webSocketTransport } from "../../core/client/transport.ts";
import { startTestMesh, until } from "../../test-support/harness.ts";
import { startWebPushReceiver } from "../../test-support/receivers/web-push-receiver.ts";


test("pushed first, then the socket: the app sees each message once, and the socket's copy is acked", async () => {
  await using pushService = await startWebPushReceiver();
  await using mesh = await startTestMesh({ providerCaFile: pushService.caFile });
  const made = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:ops@example.com" });
  pushService.expectVapidKey(made.body.shown.vapidPublicKey);
  const creds = await mesh.device("tab");
  await mesh.api("PUT", "/v1/devices/tab/channels", { endpoints: [pushService.subscribe()] });

  // Offline: both messages go by Web Push at once.
  const fallback = { after: 60, channels: ["webpush"] };
  const first = await mesh.send("tab", { n: 1 }, { fallback, notification: { title: "one" } });
  const second = await mesh.send("tab", { n: 2 }, { fallback, notification: { title: "two" } });
  await until(() => pushService.accepted.length === 2, "two pushes");

  const app: ReceivedMessage[] = [];
  const client = new PushClient({
    deviceId: "tab",
    token: creds.token,
    addresses: [mesh.ws],
    transport: webSocketTransport(),
    state: new MemoryStateStore(),
    onMessage: (m) => void app.push(m),
  });
  try {
    // The service worker hands the page what the push service brought (here: the second only).
    const pushed = pushService.received().find((p) => p.messageId === second.messageId)!;
    expect(await client.acceptPushed(pushed)).toBe(true);
    expect(await client.acceptPushed(pushed)).toBe(false);
    await client.start();
    await until(() => app.length === 2, "the socket's replay");
    await until(async () => (await mesh.api("GET", `/v1/messages/${second.messageId}`)).body.states.delivered === 1, "the ack of the pushed message");
    expect(app.map((m) => [m.messageId, m.via])).toEqual([
      [second.messageId, "push"],
      [first.messageId, "socket"],
    ]);
    // Now a message the socket delivers first: its late push is not handed over again.
    const third = await mesh.send("tab", { n: 3 });
    await until(() => app.length === 3, "the third message");
    expect(await client.acceptPushed({ messageId: third.messageId, seq: 3, data: { n: 3 } })).toBe(false);
    expect(app).toHaveLength(3);
    expect((await mesh.api("GET", `/v1/messages/${first.messageId}`)).body.states.delivered).toBe(1);
  } finally {
    await client.stop();
  }
});
