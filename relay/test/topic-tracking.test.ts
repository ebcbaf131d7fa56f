// Topic messages are tracked like device messages: their targets are the topic's subscribers when
// they were published, and a target counts as delivered once a relay wrote the message to the
// device's connection (or the device reported the offset in HELLO).
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("a topic send's tracking counts its subscribers at publish time and which of them got it", async () => {
  await using mesh = await startTestMesh();
  const online = await mesh.device("online");
  await mesh.device("offline");
  await mesh.device("late");
  expect((await mesh.api("POST", "/v1/topics/scores/subscribers", { deviceIds: ["online", "offline"] })).status).toBe(200);
  await using device = await connectDevice(mesh.ws, online);
  await device.waitForEvent("connected");

  const sent = await mesh.api("POST", "/v1/messages", { to: { topic: "scores" }, data: { goal: 1 } });
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ topic: "scores", offset: 1, targets: 2 });
  // Subscribing after the publish does not make a device a target of it.
  expect((await mesh.api("POST", "/v1/topics/scores/subscribers", { deviceIds: ["late"] })).status).toBe(200);
  await device.waitForTopic(1, 10_000);

  let tracked = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  for (let i = 0; i < 100 && tracked.body.states.delivered !== 1; i++) {
    await Bun.sleep(20);
    tracked = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  }
  expect(tracked.status).toBe(200);
  expect(tracked.body).toMatchObject({ topic: "scores", offset: 1, targets: 2 });
  expect(tracked.body.states).toEqual({ pending: 1, delivered: 1, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
  expect(tracked.body.recipients.map((r: { deviceId: string; state: string }) => [r.deviceId, r.state])).toEqual([
    ["offline", "pending"],
    ["online", "delivered"],
  ]);

  // The offline device comes back: HELLO resumes it from its subscription and it is delivered too.
  await using late = await connectDevice(mesh.ws, await mesh.device("offline"));
  await late.waitForTopic(1, 10_000);
  for (let i = 0; i < 100 && tracked.body.states.delivered !== 2; i++) {
    await Bun.sleep(20);
    tracked = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  }
  expect(tracked.body.states).toMatchObject({ pending: 0, delivered: 2 });
});
