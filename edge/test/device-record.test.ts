// GET /v1/devices/{id}: what the store keeps of a device, its home region among it.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("a device's record: home from the registering edge's region or the request, set once; sequences as they move", async () => {
  await using mesh = await startTestMesh({ region: "eu-west" });
  await mesh.device("here");
  const there = await mesh.api("POST", "/v1/devices", { deviceId: "there", home: "us-east", userId: "u1", platform: "ios", locale: "pt-BR" });
  expect(there.status).toBe(201);
  // A later registration keeps the home it was created with.
  expect((await mesh.api("POST", "/v1/devices", { deviceId: "there", home: "ap-south" })).status).toBe(200);

  expect((await mesh.api("GET", "/v1/devices/here")).body).toMatchObject({ deviceId: "here", home: "eu-west", userId: null, lastSeq: 0, ackedSeq: 0, tokensRevokedAt: null });
  const record = (await mesh.api("GET", "/v1/devices/there")).body;
  expect(record).toMatchObject({ deviceId: "there", home: "us-east", userId: "u1", platform: "ios", locale: "pt-BR" });
  expect(Object.keys(record).sort()).toEqual(["ackedSeq", "createdAt", "deviceId", "epoch", "home", "lastSeq", "locale", "platform", "tokensRevokedAt", "userId"]);

  await mesh.send("here", { n: 1 });
  await mesh.send("here", { n: 2 });
  expect((await mesh.api("GET", "/v1/devices/here")).body).toMatchObject({ lastSeq: 2, ackedSeq: 0 });

  const missing = await mesh.api("GET", "/v1/devices/nobody");
  expect(missing.status).toBe(404);
  expect(missing.body.error).toMatchObject({ code: "DEVICE_NOT_FOUND", details: { deviceIds: ["nobody"] } });
  expect((await mesh.api("POST", "/v1/devices", { deviceId: "x", home: "" })).status).toBe(400);
});
