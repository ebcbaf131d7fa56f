// Topic messages: stored once, fanned out to every subscribed connection, resumed by offset.
import { expect, test } from "bun:test";
import { MemoryStateStore } from "../../core/client/client.ts";
import { connectDevice, startTestMesh, type TestDevice, type TestMesh } from "../../test-support/harness.ts";

async function publish(mesh: TestMesh, topic: string, data: unknown) {
  const res = await mesh.api("POST", "/v1/messages", { to: { topic }, data });
  if (res.status !== 202) throw new Error(`topic send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { messageId: string; topic: string; offset: number; targets: number };
}

test("a topic message reaches 200 subscribed devices on two relays, once each, in offset order", async () => {
  await using mesh = await startTestMesh();
  const second = await mesh.addRelay();
  const ids = Array.from({ length: 200 }, (_, i) => `fan-${i}`);
  const creds = await Promise.all(ids.map((id) => mesh.device(id)));
  const sub = await mesh.api("POST", "/v1/topics/match-7/subscribers", { deviceIds: ids });
  expect(sub.status).toBe(200);
  const devices: TestDevice[] = await Promise.all(
    creds.map((c, i) => connectDevice(i % 2 === 0 ? mesh.ws : second.tcp, c, { transport: i % 2 === 0 ? "ws" : "tcp" })),
  );
  await Promise.all(devices.map((d) => d.waitForEvent("connected")));
  for (let n = 1; n <= 5; n++) await publish(mesh, "match-7", { goal: n });
  await Promise.all(devices.map((d) => d.waitForTopic(5)));
  await Bun.sleep(200);
  for (const d of devices) {
    expect(d.topicMessages.map((m) => [m.offset, m.data])).toEqual([1, 2, 3, 4, 5].map((n) => [n, { goal: n }]));
  }
  // Stored once: one row per message in the topic stream, not one per subscriber.
  const info = await mesh.api("GET", "/v1/topics/match-7");
  expect(info.body).toEqual({ topic: "match-7", offset: 5, subscribers: 200 });
  await Promise.all(devices.map((d) => d.client.stop()));
});

test("a device away during topic messages resumes from its offset: no loss, no duplicate", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("fan");
  await mesh.api("POST", "/v1/topics/news/subscribers", { deviceIds: ["fan"] });
  const state = new MemoryStateStore();
  {
    await using device = await connectDevice(mesh.ws, creds, { state });
    await device.waitForEvent("connected");
    await publish(mesh, "news", { n: 1 });
    await publish(mesh, "news", { n: 2 });
    await device.waitForTopic(2);
  }
  for (let n = 3; n <= 7; n++) await publish(mesh, "news", { n });
  await using again = await connectDevice(mesh.tcp, creds, { transport: "tcp", state });
  await again.waitForTopic(5);
  await publish(mesh, "news", { n: 8 });
  await again.waitForTopic(6);
  await Bun.sleep(200);
  expect(again.topicMessages.map((m) => m.offset)).toEqual([3, 4, 5, 6, 7, 8]);
});

test("a subscription made while the device is offline loses nothing published after it", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("late-fan");
  await publish(mesh, "weather", { before: true });
  await mesh.api("POST", "/v1/topics/weather/subscribers", { deviceIds: ["late-fan"] });
  await publish(mesh, "weather", { after: 1 });
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitForTopic(1);
  await Bun.sleep(200);
  expect(device.topicMessages.map((m) => m.data)).toEqual([{ after: 1 }]);
});

test("SUBSCRIBE from the device starts at the head; UNSUBSCRIBE stops delivery", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("self-service");
  await publish(mesh, "offers", { old: true });
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitForEvent("connected");
  expect(await device.client.subscribe("offers")).toBe(1);
  await publish(mesh, "offers", { fresh: 1 });
  await device.waitForTopic(1);
  await device.client.unsubscribe("offers");
  // Published in this order, a message of "offers" would reach the device before the one of "other".
  await device.client.subscribe("other");
  await publish(mesh, "offers", { fresh: 2 });
  await publish(mesh, "other", { after: true });
  await device.waitForTopic(2);
  expect(device.topicMessages.map((m) => m.data)).toEqual([{ fresh: 1 }, { after: true }]);
  expect((await mesh.api("GET", "/v1/topics/offers")).body.subscribers).toBe(0);
});

test("a topic send answers with its offset and refuses per-device options", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("reader");
  await mesh.api("POST", "/v1/topics/digest/subscribers", { deviceIds: ["reader"] });
  const first = await publish(mesh, "digest", { n: 1 });
  const second = await publish(mesh, "digest", { n: 2 });
  expect(first).toMatchObject({ topic: "digest", offset: 1, targets: 1 });
  expect(second.offset).toBe(2);
  for (const extra of [{ idempotencyKey: "k" }, { delay: 5 }, { collapseKey: "c" }]) {
    const res = await mesh.api("POST", "/v1/messages", { to: { topic: "digest" }, data: 1, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("to.topic");
  }
  expect((await mesh.api("GET", "/v1/topics/digest")).body.offset).toBe(2);
});

test("subscribing an unknown device is refused with 404 and subscribes nobody", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("real");
  const res = await mesh.api("POST", "/v1/topics/t/subscribers", { deviceIds: ["real", "ghost"] });
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe("DEVICE_NOT_FOUND");
  expect((await mesh.api("GET", "/v1/topics/t")).body.subscribers).toBe(0);
  const bad = await mesh.api("POST", "/v1/topics/bad%20name/subscribers", { deviceIds: ["real"] });
  expect(bad.status).toBe(400);
});

test("subscriptions made and removed over HTTP reach a device that is already connected", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("live");
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitForEvent("connected");
  await publish(mesh, "alerts", { before: true });
  await mesh.api("POST", "/v1/topics/alerts/subscribers", { deviceIds: ["live"] });
  await publish(mesh, "alerts", { n: 1 });
  await device.waitForTopic(1);
  await mesh.api("DELETE", "/v1/topics/alerts/subscribers", { deviceIds: ["live"] });
  await publish(mesh, "alerts", { n: 2 });
  await Bun.sleep(300);
  expect(device.topicMessages.map((m) => m.data)).toEqual([{ n: 1 }]);
  expect(device.events.filter((e) => e.type === "connected")).toHaveLength(1);
});
