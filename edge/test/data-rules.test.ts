// Whatever the edge accepts with 202 can be delivered: data nested too deep is refused up front
// with a named 400 (it used to be accepted at 64 levels and wedge the device, and be a 500 past it).
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

const nested = (levels: number): unknown => {
  let value: unknown = "core";
  for (let i = 0; i < levels; i++) value = { in: value };
  return value;
};

test("data nested deeper than 32 levels is DATA_INVALID naming the place; 32 levels are delivered", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("deep");
  for (const levels of [33, 64, 65, 1000]) {
    const refused = await mesh.api("POST", "/v1/messages", { to: { deviceId: "deep" }, data: nested(levels) });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("DATA_INVALID");
    expect(refused.body.error.details[0].path).toStartWith("data.in.in");
    expect(refused.body.error.details[0].message).toContain("32 levels");
  }
  const topic = await mesh.api("POST", "/v1/messages", { to: { topic: "deep" }, data: nested(40) });
  expect(topic.body.error?.code).toBe("DATA_INVALID");
  const batch = await mesh.api("POST", "/v1/messages/batch", { messages: [{ to: { deviceId: "deep" }, data: nested(50) }, { to: { deviceId: "deep" }, data: 1 }] });
  expect(batch.body.results.map((r: { status: number; error?: { code: string } }) => [r.status, r.error?.code])).toEqual([
    [400, "DATA_INVALID"],
    [202, undefined],
  ]);
  expect(await mesh.store.latestSeq(mesh.appId, "deep")).toBe(1);

  const deepest = await mesh.send("deep", nested(32));
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(2, 10_000);
  expect(device.received.map((m) => m.messageId)).toEqual([expect.any(String), deepest.messageId]);
  expect(device.received[1]!.data).toEqual(nested(32));
});
