// The business send API over a real edge: each targeting mode, batches with partial failure, and
// idempotency keys (a repeat answers the first result and never makes a second message).
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("to.deviceId, to.deviceIds and to.userId each reach exactly their devices", async () => {
  await using mesh = await startTestMesh();
  const a = await mesh.device("a");
  const b = await mesh.device("b");
  await mesh.api("POST", "/v1/devices", { deviceId: "u-phone", userId: "user-7" });
  const tablet = await mesh.api("POST", "/v1/devices", { deviceId: "u-tablet", userId: "user-7" });
  await mesh.api("POST", "/v1/devices", { deviceId: "other", userId: "user-8" });

  const one = await mesh.api("POST", "/v1/messages", { to: { deviceId: "a" }, data: { n: 1 } });
  expect(one.status).toBe(202);
  expect(one.body).toMatchObject({ targets: 1, deliverAt: null, states: { pending: 1, scheduled: 0, held: 0, suppressed: 0, expired: 0 } });
  const many = await mesh.api("POST", "/v1/messages", { to: { deviceIds: ["a", "b", "a"] }, data: { n: 2 } });
  expect(many.body.targets).toBe(2);
  const user = await mesh.api("POST", "/v1/messages", { to: { userId: "user-7" }, data: { n: 3 } });
  expect(user.status).toBe(202);
  expect(user.body.targets).toBe(2);
  const status = await mesh.api("GET", `/v1/messages/${user.body.messageId}`);
  expect(status.body.recipients.map((r: any) => r.deviceId).sort()).toEqual(["u-phone", "u-tablet"]);

  await using deviceA = await connectDevice(mesh.ws, a);
  await using deviceB = await connectDevice(mesh.ws, b);
  await using deviceTablet = await connectDevice(mesh.ws, tablet.body);
  await deviceA.waitFor(2);
  await deviceB.waitFor(1);
  await deviceTablet.waitFor(1);
  await Bun.sleep(100);
  expect(deviceA.received.map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);
  expect(deviceB.received.map((m) => m.data)).toEqual([{ n: 2 }]);
  expect(deviceTablet.received.map((m) => m.data)).toEqual([{ n: 3 }]);

  const nobody = await mesh.api("POST", "/v1/messages", { to: { userId: "user-none" }, data: 1 });
  expect(nobody.status).toBe(404);
  expect(nobody.body.error.code).toBe("USER_NOT_FOUND");
});

test("a batch sends every valid item in order and reports each failure on its own", async () => {
  await using mesh = await startTestMesh({ maxPayloadBytes: 1024 });
  const creds = await mesh.device("d");
  const res = await mesh.api("POST", "/v1/messages/batch", {
    messages: [
      { to: { deviceId: "d" }, data: { i: 0 } },
      { to: { deviceId: "ghost" }, data: { i: 1 } },
      { to: { deviceId: "d" }, data: { i: 2 }, category: "news" },
      { to: { deviceId: "d" }, data: "x".repeat(2000) },
      { to: { userId: "nobody" }, data: { i: 4 } },
      { to: { deviceId: "d" }, data: { i: 5 } },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.accepted).toBe(3);
  expect(res.body.failed).toBe(3);
  expect(res.body.results.map((r: any) => [r.index, r.status, r.error?.code ?? null])).toEqual([
    [0, 202, null],
    [1, 404, "DEVICE_NOT_FOUND"],
    [2, 202, null],
    [3, 413, "PAYLOAD_TOO_LARGE"],
    [4, 404, "USER_NOT_FOUND"],
    [5, 202, null],
  ]);
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(3);
  await Bun.sleep(100);
  expect(device.received.map((m) => m.data)).toEqual([{ i: 0 }, { i: 2 }, { i: 5 }]);
  expect(device.received.map((m) => m.messageId)).toEqual([0, 2, 5].map((i) => res.body.results[i].result.messageId));
});

test("a batch over maxBatchMessages, or with an item failing the schema, is refused whole", async () => {
  await using mesh = await startTestMesh({ maxBatchMessages: 2 });
  await mesh.device("d");
  const item = { to: { deviceId: "d" }, data: 1 };
  const tooMany = await mesh.api("POST", "/v1/messages/batch", { messages: [item, item, item] });
  expect(tooMany.status).toBe(400);
  expect(tooMany.body.error.code).toBe("INVALID_REQUEST");
  const bad = await mesh.api("POST", "/v1/messages/batch", { messages: [item, { to: { deviceId: "d" } }] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toContain("messages.1");
  const status = await mesh.api("GET", "/v1/stats");
  expect(status.body.messages).toBe(0);
});

test("an idempotent retry returns the same messageId and never a second message", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("d");
  const body = { to: { deviceId: "d" }, data: { pay: 42 }, idempotencyKey: "order-1001" };
  const first = await mesh.api("POST", "/v1/messages", body);
  expect(first.status).toBe(202);
  const res = await fetch(`${mesh.edge}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
    // Same request, keys in another order: still the same request.
    body: JSON.stringify({ idempotencyKey: "order-1001", data: { pay: 42 }, to: { deviceId: "d" } }),
  });
  expect(res.status).toBe(202);
  expect(res.headers.get("idempotent-replayed")).toBe("true");
  expect(await res.json()).toEqual(first.body);

  // Concurrent repeats race on the key: one message in all.
  const racing = await Promise.all(
    Array.from({ length: 8 }, () => mesh.api("POST", "/v1/messages", { ...body, idempotencyKey: "order-1002" })),
  );
  expect(new Set(racing.map((r) => r.body.messageId)).size).toBe(1);
  expect(racing.every((r) => r.status === 202)).toBe(true);

  const reused = await mesh.api("POST", "/v1/messages", { ...body, data: { pay: 43 } });
  expect(reused.status).toBe(422);
  expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");

  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(2);
  await Bun.sleep(150);
  expect(device.received.map((m) => m.messageId)).toEqual([first.body.messageId, racing[0]!.body.messageId]);
  expect((await mesh.store.latestSeq(mesh.appId, "d"))).toBe(2);
});

test("a key is per app: another app's same key is its own send", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const other = await mesh.store.createApp("other");
  await mesh.device("d", other.apiKey);
  const body = { to: { deviceId: "d" }, data: 1, idempotencyKey: "same" };
  const a = await mesh.api("POST", "/v1/messages", body);
  const b = await mesh.api("POST", "/v1/messages", body, other.apiKey);
  expect(a.status).toBe(202);
  expect(b.status).toBe(202);
  expect(a.body.messageId).not.toBe(b.body.messageId);
});

test("a batch whose items share a group commit: a repeated idempotency key makes one message, order holds per device", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("d");
  await mesh.device("e");
  const keyed = { to: { deviceId: "d" }, data: { pay: 1 }, idempotencyKey: "batch-key" };
  const res = await mesh.api("POST", "/v1/messages/batch", {
    messages: [
      { to: { deviceIds: ["d", "e"] }, data: { i: 0 } },
      keyed,
      { to: { deviceId: "d" }, data: { i: 2 } },
      keyed,
      { ...keyed, data: { pay: 2 } },
      { to: { deviceId: "d" }, data: { i: 5 } },
    ],
  });
  expect(res.body.results.map((r: any) => r.status)).toEqual([202, 202, 202, 202, 422, 202]);
  expect(res.body.results[3].result).toEqual(res.body.results[1].result);
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(4);
  await Bun.sleep(100);
  expect(device.received.map((m) => m.data)).toEqual([{ i: 0 }, { pay: 1 }, { i: 2 }, { i: 5 }]);
  expect(device.received.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
});
