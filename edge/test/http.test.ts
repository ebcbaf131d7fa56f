// The edge's HTTP API over a real listener: status codes, named errors, isolation between apps.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("bad JSON gets 400 BAD_JSON", async () => {
  await using mesh = await startTestMesh();
  const res = await mesh.api("POST", "/v1/messages", "{not json");
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe("BAD_JSON");
});

test("bodies that fail the schema get 400 INVALID_REQUEST naming the field", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const bodies = [
    { data: 1 },
    { to: { deviceId: "d" } },
    { to: { deviceId: "d" }, data: 1, priority: "urgent" },
    { to: { deviceId: "d" }, data: 1, ttl: -5 },
    { to: { deviceId: "d" }, data: 1, surprise: true },
    { to: { deviceIds: [] }, data: 1 },
    { to: { deviceId: "bad id with spaces" }, data: 1 },
    [1, 2, 3],
  ];
  for (const body of bodies) {
    const res = await mesh.api("POST", "/v1/messages", body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_REQUEST");
    expect(res.body.error.message.length).toBeGreaterThan(0);
  }
});

test("a body that is not JSON content gets 415", async () => {
  await using mesh = await startTestMesh();
  const res = await fetch(`${mesh.edge}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "text/plain" },
    body: "hello",
  });
  expect(res.status).toBe(415);
  expect(((await res.json()) as any).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
});

test("an unknown device gets 404 DEVICE_NOT_FOUND and nothing is written", async () => {
  await using mesh = await startTestMesh();
  const known = await mesh.device("known");
  const res = await mesh.api("POST", "/v1/messages", { to: { deviceIds: ["known", "ghost"] }, data: { x: 1 } });
  expect(res.status).toBe(404);
  expect(res.body.error).toMatchObject({ code: "DEVICE_NOT_FOUND", details: { deviceIds: ["ghost"] } });
  await mesh.send("known", { first: true });
  await using device = await connectDevice(mesh.ws, known);
  await device.waitFor(1);
  await Bun.sleep(100);
  expect(device.received.map((m) => [m.seq, m.data])).toEqual([[1, { first: true }]]);
});

test("missing or unknown API keys get 401", async () => {
  await using mesh = await startTestMesh();
  const none = await fetch(`${mesh.edge}/v1/messages`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  expect(none.status).toBe(401);
  expect(((await none.json()) as any).error.code).toBe("UNAUTHORIZED");
  const wrong = await mesh.api("POST", "/v1/devices", { deviceId: "x" }, "pm_not_a_real_key");
  expect(wrong.status).toBe(401);
});

test("app B's key cannot send to, or read about, app A's devices", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("shared-name");
  const b = await mesh.store.createApp("other");
  const { messageId } = await mesh.send("shared-name", { for: "a" });
  const send = await mesh.api("POST", "/v1/messages", { to: { deviceId: "shared-name" }, data: 1 }, b.apiKey);
  expect(send.status).toBe(404);
  expect(send.body.error.code).toBe("DEVICE_NOT_FOUND");
  const read = await mesh.api("GET", `/v1/messages/${messageId}`, undefined, b.apiKey);
  expect(read.status).toBe(404);
  expect(read.body.error.code).toBe("MESSAGE_NOT_FOUND");
  // Same device id registered in B is a different device with its own stream.
  const bDevice = await mesh.device("shared-name", b.apiKey);
  await using device = await connectDevice(mesh.ws, bDevice);
  await mesh.api("POST", "/v1/messages", { to: { deviceId: "shared-name" }, data: { for: "b" } }, b.apiKey);
  await device.waitFor(1);
  await Bun.sleep(100);
  expect(device.received.map((m) => m.data)).toEqual([{ for: "b" }]);
});

test("data over the payload limit gets 413 PAYLOAD_TOO_LARGE", async () => {
  await using mesh = await startTestMesh({ maxPayloadBytes: 1024 });
  await mesh.device("big");
  const res = await mesh.api("POST", "/v1/messages", { to: { deviceId: "big" }, data: "x".repeat(2000) });
  expect(res.status).toBe(413);
  expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  const huge = await mesh.api("POST", "/v1/messages", { to: { deviceId: "big" }, data: "x".repeat(200_000) });
  expect(huge.status).toBe(413);
  // 300 × 0.1 is 1,201 bytes of JSON but 2,701 of CBOR (float64s): the pushed form is over the limit.
  const floats = await mesh.api("POST", "/v1/messages", { to: { deviceId: "big" }, data: Array(300).fill(0.1) });
  expect(floats.status).toBe(413);
});

test("unknown routes get 404 NOT_FOUND in the error shape", async () => {
  await using mesh = await startTestMesh();
  const res = await mesh.api("GET", "/v1/nope");
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe("NOT_FOUND");
});

test("registering a device twice keeps its epoch and issues a fresh token", async () => {
  await using mesh = await startTestMesh();
  const first = await mesh.api("POST", "/v1/devices", { deviceId: "again", platform: "ios" });
  const second = await mesh.api("POST", "/v1/devices", { deviceId: "again" });
  expect(first.status).toBe(201);
  expect(second.status).toBe(200);
  expect(second.body.epoch).toBe(first.body.epoch);
  const generated = await mesh.api("POST", "/v1/devices", {});
  expect(generated.status).toBe(201);
  expect(generated.body.deviceId).toMatch(/^dev_/);
});

test("message status counts pending then delivered", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("counted");
  await mesh.device("never-online");
  const { messageId } = await mesh.send(["counted", "never-online"], { x: 1 });
  const before = await mesh.api("GET", `/v1/messages/${messageId}`);
  expect(before.body).toMatchObject({ messageId, targets: 2, states: { pending: 2, delivered: 0, expired: 0, collapsed: 0, suppressed: 0, failed: 0 } });
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(1);
  await device.client.stop();
  await Bun.sleep(100);
  const after = await mesh.api("GET", `/v1/messages/${messageId}`);
  expect(after.body.states).toEqual({ pending: 1, delivered: 1, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
});

test("GET /v1/nodes lists the relay with its addresses; /openapi.json describes the routes", async () => {
  await using mesh = await startTestMesh();
  const nodes = await (await fetch(`${mesh.edge}/v1/nodes`)).json() as any;
  expect(nodes.nodes).toHaveLength(1);
  expect(nodes.nodes[0]).toMatchObject({ id: "relay-1", ws: mesh.ws, tcp: mesh.tcp });
  expect(nodes.heartbeat).toEqual({ min: 5, default: 30, max: 600 });
  const doc = await (await fetch(`${mesh.edge}/openapi.json`)).json() as any;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(["/v1/devices", "/v1/messages", "/v1/messages/{id}", "/v1/nodes", "/v1/topics/{topic}/subscribers"]),
  );
});
