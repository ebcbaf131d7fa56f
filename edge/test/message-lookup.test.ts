// An operator looks up a message by id in any app: the app's own tracking, with the app's id.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("an operator finds a message of any app with its per-target state; an app key cannot", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("phone-1");
  await mesh.device("phone-2");
  const { messageId } = (await mesh.send(["phone-1", "phone-2"], { hello: 1 })) as { messageId: string };
  const own = await mesh.api("GET", `/v1/messages/${messageId}`);
  const found = await mesh.api("GET", `/v1/mesh/messages/${messageId}`, undefined, mesh.operatorKey);
  expect(found.status).toBe(200);
  expect(found.body).toEqual({ appId: mesh.appId, ...own.body });
  expect(found.body.recipients.map((r: { deviceId: string }) => r.deviceId).sort()).toEqual(["phone-1", "phone-2"]);

  expect((await mesh.api("GET", `/v1/mesh/messages/${messageId}`)).status).toBe(403);
  const missing = await mesh.api("GET", `/v1/mesh/messages/${crypto.randomUUID()}`, undefined, mesh.operatorKey);
  expect([missing.status, missing.body.error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
});
