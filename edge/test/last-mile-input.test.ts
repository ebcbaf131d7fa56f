// Bad input on the last-mile routes (channels, credentials, webhooks, templates, fallbacks, retention):
// each is a named 4xx, never a 500, and writes nothing a later request would trip on.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";
test("bad input on the new routes is a named 400, never a 500", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const cases: [string, string, unknown][] = [
    ["PUT", "/v1/app/channels/email", { url: "smtp://[", from: "a@b" }],
    ["PUT", "/v1/app/channels/email", { url: "smtp://h", from: "" }],
    ["PUT", "/v1/app/channels/webpush", { vapidPublicKey: "x", vapidPrivateKey: "y", subject: "z" }],
    ["PUT", "/v1/app/channels/fcm", { projectId: "p", clientEmail: "e", privateKey: "not pem" }],
    ["PUT", "/v1/app/channels/nope", {}],
    ["PUT", "/v1/devices/d/channels", { endpoints: [{ kind: "webpush", endpoint: "https://[", p256dh: "a", auth: "b" }] }],
    ["PUT", "/v1/devices/d/channels", { endpoints: [{ kind: "apns", token: "zz", topic: "t", sandbox: "no" }] }],
    ["PUT", "/v1/devices/d/channels", { endpoints: Array.from({ length: 21 }, (_, i) => ({ kind: "fcm", token: `t${i}` })) }],
    ["POST", "/v1/app/webhooks", { url: "http://[", events: ["message.acked"] }],
    ["POST", "/v1/app/webhooks", { url: "http://x", events: ["nope"] }],
    ["PUT", "/v1/templates/t", { defaultLocale: "en", locales: {} }],
    ["PUT", "/v1/templates/bad name", { defaultLocale: "en", locales: { en: {} } }],
    ["POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, fallback: { after: -1, channels: [] } }],
    ["POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, vars: { a: 1 } }],
    ["POST", "/v1/messages", { to: { topic: "t" }, data: 1, fallback: { after: 0, channels: ["email"] } }],
    ["PUT", "/v1/app/retention", { settledSeconds: "x", topicSeconds: null, topicMaxEntries: null }],
    ["PUT", "/v1/app/fallback", { fallback: { after: 1, channels: ["email", "email"] } }],
  ];
  for (const [method, path, body] of cases) {
    const res = await mesh.api(method, path, body);
    expect([method, path, res.status]).toEqual([method, path, res.status >= 400 && res.status < 500 ? res.status : -1]);
    expect(res.body.error.code).toMatch(/^[A-Z_]+$/);
  }
});
