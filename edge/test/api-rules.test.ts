// Rules of the HTTP API a client author relies on: one answer lists every issue of the request,
// rules across fields name the field, a topic send answers its documented shape, 405 carries
// Allow, and only routes that take a body read (and limit) one.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("one answer lists every issue of the request: query, path and body together", async () => {
  await using mesh = await startTestMesh();
  const res = await mesh.api("PUT", "/v1/devices/bad%20id/preferences?verbose=1", { quietHours: { start: "25:00", end: "07:00" }, mute: [] });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe("INVALID_REQUEST");
  expect(res.body.error.details).toEqual([
    { path: "query.verbose", message: "is not a parameter of this route" },
    { path: "path.id", message: "must be 1 to 128 characters: letters, digits and . _ : @ -" },
    { path: "body.quietHours.start", message: "must be a time of day as HH:MM, 24-hour" },
    { path: "body.mute", message: "is not a field of this object" },
  ]);
  expect(res.body.error.message).toBe(res.body.error.details.map((d: any) => `${d.path}: ${d.message}`).join("; "));
});

test("rules across fields name the field: deliverAt with delay, quiet hours that start where they end, a stats range", async () => {
  await using mesh = await startTestMesh({ maxBatchMessages: 2 });
  await mesh.device("d");
  const both = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, deliverAt: Date.now() + 60_000, delay: 60 });
  expect(both.body.error.details).toEqual([{ path: "body.delay", message: "cannot be given with deliverAt: give one or the other" }]);
  const still = await mesh.api("PUT", "/v1/users/u/preferences", { quietHours: { start: "22:00", end: "22:00" } });
  expect(still.body.error.details).toEqual([{ path: "body.quietHours.end", message: "must differ from start" }]);
  const year = 367 * 24 * 3600 * 1000;
  const long = await mesh.api("GET", `/v1/stats?from=${Date.now() - year}`);
  expect(long.body.error.details).toEqual([{ path: "query.from", message: "must be before to, and at most 366 days before it" }]);
  const item = { to: { deviceId: "d" }, data: 1 };
  const many = await mesh.api("POST", "/v1/messages/batch", { messages: [item, item, item] });
  expect(many.body.error.details).toEqual([{ path: "body.messages", message: "must be a list of 1 to 2 messages" }]);
});

test("a topic send answers a TopicSendResult; per-device options are refused by name", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  await mesh.api("POST", "/v1/topics/scores/subscribers", { deviceIds: ["d"] });
  const sent = await mesh.api("POST", "/v1/messages", { to: { topic: "scores" }, data: { goal: 1 }, priority: "high", ttl: 60, category: "sport" });
  expect(sent.status).toBe(202);
  expect(sent.body).toEqual({
    messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    topic: "scores",
    offset: 1,
    targets: 1,
    deliverAt: null,
    states: { pending: 0, scheduled: 0, held: 0, suppressed: 0, expired: 0 },
  });
  const keyed = await mesh.api("POST", "/v1/messages", { to: { topic: "scores" }, data: 1, idempotencyKey: "k", collapseKey: "c" });
  expect(keyed.status).toBe(400);
  expect(keyed.body.error.details).toEqual([
    { path: "body.idempotencyKey", message: "cannot be used with to.topic" },
    { path: "body.collapseKey", message: "cannot be used with to.topic" },
  ]);
});

test("a method the path does not take gets 405 with Allow; an unknown path stays 404", async () => {
  await using mesh = await startTestMesh();
  const put = await fetch(`${mesh.edge}/v1/messages`, { method: "PUT", headers: { authorization: `Bearer ${mesh.apiKey}` } });
  expect(put.status).toBe(405);
  expect(put.headers.get("allow")).toBe("POST");
  expect(((await put.json()) as any).error.code).toBe("METHOD_NOT_ALLOWED");
  const trace = await fetch(`${mesh.edge}/v1/devices/d/preferences`, { method: "TRACE" });
  expect(trace.status).toBe(405);
  expect(trace.headers.get("allow")).toBe("GET, HEAD, PUT, DELETE");
  // The batch path is also a message id's: GET reaches the status route.
  const batch = await fetch(`${mesh.edge}/v1/messages/batch`, { method: "DELETE" });
  expect(batch.headers.get("allow")).toBe("GET, HEAD, POST");
  expect((await fetch(`${mesh.edge}/v1/messages/a/b`, { method: "TRACE" })).status).toBe(404);
});

test("only routes that take a body limit its size: a DELETE without one ignores what is sent", async () => {
  await using mesh = await startTestMesh({ maxPayloadBytes: 1024 });
  const huge = JSON.stringify({ padding: "x".repeat(200_000) });
  const call = (method: string) =>
    fetch(`${mesh.edge}/v1/users/u/preferences`, {
      method,
      headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
      body: huge,
    });
  expect((await call("DELETE")).status).toBe(204);
  expect((await call("PUT")).status).toBe(413);
});

test("503 answers carry Retry-After", async () => {
  await using mesh = await startTestMesh({ forwardWritesTo: "http://127.0.0.1:9" });
  const res = await fetch(`${mesh.edge}/v1/devices`, {
    method: "POST",
    headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("1");
});
