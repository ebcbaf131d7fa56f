// Erasing a device or a user removes every row that names them and the messages only they were
// sent, ends a live session with DEVICE_UNKNOWN, and touches no other device or app.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("a device erase removes its rows and its own messages, ends its live session, and spares the rest", async () => {
  await using mesh = await startTestMesh();
  const gone = await mesh.device("gone");
  await mesh.device("kept");
  await mesh.api("POST", "/v1/devices", { deviceId: "gone", userId: "u" });
  await mesh.api("PUT", "/v1/devices/gone/preferences", { timeZone: "UTC", quietHours: null, mutedCategories: ["x"], frequencyCaps: [] });
  await mesh.api("POST", "/v1/topics/news/subscribers", { deviceIds: ["gone", "kept"] });
  await mesh.api("PUT", "/v1/devices/gone/channels", { endpoints: [{ kind: "email", address: "gone@example.com" }] });
  const own = await mesh.send("gone", { only: "gone" });
  const shared = await mesh.send(["gone", "kept"], { both: true });
  await mesh.send("gone", { later: true }, { delay: 3600 });
  await using session = await connectDevice(mesh.ws, gone);
  await session.waitFor(2, 10_000);

  const erased = await mesh.api("DELETE", "/v1/devices/gone");
  expect(erased.status).toBe(200);
  expect(erased.body).toEqual({ deviceIds: ["gone"], inboxRows: 2, waitingTargets: 1, messages: 2, subscriptions: 1, preferences: 1, endpoints: 1 });
  const error = await session.waitForEvent("error", 1, 10_000);
  expect(error).toMatchObject({ code: "DEVICE_UNKNOWN" });
  expect((await mesh.api("GET", `/v1/messages/${own.messageId}`)).status).toBe(404);
  expect((await mesh.api("GET", `/v1/messages/${shared.messageId}`)).body.recipients.map((r: { deviceId: string }) => r.deviceId)).toEqual(["kept"]);
  expect((await mesh.api("GET", "/v1/topics/news")).body.subscribers).toBe(1);
  expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "gone" }, data: 1 })).status).toBe(404);
  expect((await mesh.api("DELETE", "/v1/devices/gone")).body.error.code).toBe("DEVICE_NOT_FOUND");
  expect(await mesh.store.latestSeq(mesh.appId, "kept")).toBe(1);
  expect(await mesh.store.endpointsOf(mesh.appId, { type: "device", id: "gone" })).toEqual([]);
});

test("a user erase removes all its devices and the user's preferences", async () => {
  await using mesh = await startTestMesh();
  for (const deviceId of ["p1", "p2"]) await mesh.api("POST", "/v1/devices", { deviceId, userId: "person" });
  await mesh.api("POST", "/v1/devices", { deviceId: "other", userId: "someone-else" });
  await mesh.api("PUT", "/v1/users/person/preferences", { timeZone: "UTC", quietHours: null, mutedCategories: [], frequencyCaps: [] });
  await mesh.send(["p1", "p2", "other"], { hi: 1 });
  const erased = await mesh.api("DELETE", "/v1/users/person");
  expect(erased.status).toBe(200);
  expect(erased.body.deviceIds.sort()).toEqual(["p1", "p2"]);
  expect(erased.body).toMatchObject({ inboxRows: 2, messages: 0, preferences: 1 });
  expect((await mesh.api("GET", "/v1/users/person/preferences")).status).toBe(404);
  expect((await mesh.api("POST", "/v1/messages", { to: { userId: "person" }, data: 1 })).body.error.code).toBe("USER_NOT_FOUND");
  expect(await mesh.store.latestSeq(mesh.appId, "other")).toBe(1);
  expect((await mesh.api("DELETE", "/v1/users/person")).body.error.code).toBe("USER_NOT_FOUND");
});
