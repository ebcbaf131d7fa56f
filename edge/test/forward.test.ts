// An edge far from the primary forwards writes to the edge beside it and serves reads itself.
// Two meshes with separate stores make the difference visible: whatever the far edge forwarded
// lands in the home store, whatever it served itself stays in its own.
import { expect, test } from "bun:test";
import { FORWARDED_BY } from "../forward-writes.ts";
import { startTestMesh } from "../../test-support/harness.ts";

test("writes at a forwarding edge land at home, with the home edge's answer; reads stay local", async () => {
  await using home = await startTestMesh({ nodeId: "home" });
  await using far = await startTestMesh({ nodeId: "far", forwardWritesTo: home.edge });
  const registered = await far.api("POST", "/v1/devices", { deviceId: "phone" }, home.apiKey);
  expect(registered.status).toBe(201);
  expect(await home.store.getDevice(home.appId, "phone")).not.toBeNull();
  expect(await far.store.getDevice(far.appId, "phone")).toBeNull();

  const sent = await far.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 1 }, idempotencyKey: "k1" }, home.apiKey);
  expect(sent.status).toBe(202);
  const again = await far.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 1 }, idempotencyKey: "k1" }, home.apiKey);
  expect(again.body.messageId).toBe(sent.body.messageId);
  expect(await home.store.latestSeq(home.appId, "phone")).toBe(1);
  // The home edge's own answers pass through, errors included.
  const unknown = await far.api("POST", "/v1/messages", { to: { deviceId: "ghost" }, data: 1 }, home.apiKey);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe("DEVICE_NOT_FOUND");
  const bad = await far.api("POST", "/v1/messages", "{not json", home.apiKey);
  expect(bad.status).toBe(400);

  // Reads are the far edge's own: it does not know the home app's key, and lists its own relay.
  expect((await far.api("GET", `/v1/messages/${sent.body.messageId}`, undefined, home.apiKey)).status).toBe(401);
  const nodes = (await (await fetch(`${far.edge}/v1/nodes`)).json()) as { nodes: { id: string }[] };
  expect(nodes.nodes.map((n) => n.id)).toEqual(["far"]);
});

test("a forwarded request is served where it arrives, so two edges pointing at each other never loop", async () => {
  await using far = await startTestMesh({ nodeId: "far", forwardWritesTo: "http://127.0.0.1:9" });
  const res = await fetch(`${far.edge}/v1/devices`, {
    method: "POST",
    headers: { authorization: `Bearer ${far.apiKey}`, "content-type": "application/json", [FORWARDED_BY]: "elsewhere" },
    body: JSON.stringify({ deviceId: "local" }),
  });
  expect(res.status).toBe(201);
  expect(await far.store.getDevice(far.appId, "local")).not.toBeNull();
});

test("when the home edge does not answer, writes get 503 FORWARD_FAILED and nothing is written here", async () => {
  await using far = await startTestMesh({ nodeId: "far", forwardWritesTo: "http://127.0.0.1:9" });
  const res = await far.api("POST", "/v1/devices", { deviceId: "lost" });
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe("FORWARD_FAILED");
  expect(await far.store.getDevice(far.appId, "lost")).toBeNull();
  expect((await fetch(`${far.edge}/v1/nodes`)).status).toBe(200);
});
