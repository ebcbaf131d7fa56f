// Revoking a device's tokens: its live session ends with TOKEN_REVOKED, the old token opens no new
// one, a token issued afterwards does, and the device's inbox is untouched by any of it.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { helloFrame, rawPeer } from "../../test-support/raw.ts";
import { FrameType, WireError } from "../../core/protocol.ts";

test("a revocation ends the live session, refuses the old token, and a fresh token resumes without loss", async () => {
  await using mesh = await startTestMesh();
  const phone = await mesh.device("phone");
  await mesh.device("other");
  await using session = await connectDevice(mesh.ws, phone);
  await mesh.send("phone", { n: 1 });
  await session.waitFor(1);
  await using bystander = await connectDevice(mesh.ws, (await mesh.api("POST", "/v1/devices", { deviceId: "other" })).body);

  const revoked = await mesh.api("POST", "/v1/devices/phone/revoke-tokens");
  expect(revoked.status).toBe(200);
  expect(revoked.body).toMatchObject({ deviceId: "phone", sessionEnded: true });
  expect(await session.waitForEvent("error", 1, 10_000)).toMatchObject({ code: "TOKEN_REVOKED" });

  // Sent while the device has no working token: kept in its inbox.
  await mesh.send("phone", { n: 2 });
  const peer = await rawPeer("ws", mesh);
  peer.sendFrames(helloFrame("phone", phone.token));
  const refused = await peer.nextFrame();
  expect(refused).toMatchObject({ type: FrameType.ERROR, code: WireError.TOKEN_REVOKED.code });
  await peer.closed;

  const fresh = (await mesh.api("POST", "/v1/devices", { deviceId: "phone" })).body;
  await using resumed = await connectDevice(mesh.ws, fresh);
  await resumed.waitFor(2);
  expect(resumed.received.map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);

  // Only the revoked device was touched.
  await mesh.send("other", { still: "here" });
  await bystander.waitFor(1);
  expect(bystander.events.some((e) => e.type === "error")).toBe(false);

  const audit = (await mesh.api("GET", "/v1/app/audit")).body.entries as { action: string; target: string }[];
  expect(audit).toContainEqual(expect.objectContaining({ action: "device.tokens_revoked", target: "phone" }));
});

test("revoking a device that is not connected, or does not exist", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("idle");
  expect((await mesh.api("POST", "/v1/devices/idle/revoke-tokens")).body).toMatchObject({ deviceId: "idle", sessionEnded: false });
  const missing = await mesh.api("POST", "/v1/devices/nobody/revoke-tokens");
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe("DEVICE_NOT_FOUND");
});
