// Auth and limits: per-app rate limits and quotas answer 429 with Retry-After, oversized bodies
// 413, keys without the route's scope 403.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

// Windows are a day long and aligned to UTC days, so a test run never straddles a reset.
test("past the per-app rate limit: 429 RATE_LIMITED with Retry-After; other apps unaffected", async () => {
  await using mesh = await startTestMesh({ rateLimitRequests: 5, rateLimitWindowSeconds: 86_400 });
  const other = await mesh.store.createApp("other");
  const statuses: number[] = [];
  let limited: Response | null = null;
  for (let i = 0; i < 7; i++) {
    const res = await fetch(`${mesh.edge}/v1/stats`, { headers: { authorization: `Bearer ${mesh.apiKey}` } });
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  // The demo app's key registration in the harness took none: it went straight to the store.
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  const retryAfter = Number(limited!.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(86_400);
  expect(((await limited!.json()) as any).error.code).toBe("RATE_LIMITED");
  expect((await mesh.api("GET", "/v1/stats", undefined, other.apiKey)).status).toBe(200);
  // Devices asking for nodes carry no key and are not counted against any app.
  expect((await fetch(`${mesh.edge}/v1/nodes`)).status).toBe(200);
});

test("past the message quota: 429 QUOTA_EXCEEDED with Retry-After, per item in a batch; repeats are free", async () => {
  await using mesh = await startTestMesh({ quotaMessages: 3, quotaWindowSeconds: 86_400 });
  await mesh.device("d");
  const keyed = { to: { deviceId: "d" }, data: 0, idempotencyKey: "k" };
  expect((await mesh.api("POST", "/v1/messages", keyed)).status).toBe(202);
  expect((await mesh.api("POST", "/v1/messages", keyed)).status).toBe(202);
  const batch = await mesh.api("POST", "/v1/messages/batch", {
    messages: [1, 2, 3].map((i) => ({ to: { deviceId: "d" }, data: i })),
  });
  expect(batch.body.results.map((r: any) => r.status)).toEqual([202, 202, 429]);
  expect(batch.body.results[2].error).toMatchObject({ code: "QUOTA_EXCEEDED", details: { retryAfterSeconds: expect.any(Number) } });
  const res = await fetch(`${mesh.edge}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ to: { deviceId: "d" }, data: 4 }),
  });
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await res.json()) as any).error.code).toBe("QUOTA_EXCEEDED");
  expect(await mesh.store.latestSeq(mesh.appId, "d")).toBe(3);
});

test("oversized payloads get 413, single and batch", async () => {
  await using mesh = await startTestMesh({ maxPayloadBytes: 1024, maxBatchMessages: 2 });
  await mesh.device("d");
  const single = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: "x".repeat(1100) });
  expect(single.status).toBe(413);
  expect(single.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  const body = await mesh.api("POST", "/v1/messages/batch", {
    messages: [{ to: { deviceId: "d" }, data: "x".repeat(500_000) }],
  });
  expect(body.status).toBe(413);
  expect(body.body.error.code).toBe("PAYLOAD_TOO_LARGE");
});

test("a key without the route's scope gets 403; fleet routes take only the operator credential, never an app key", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const reader = (await mesh.store.createApiKey(mesh.appId, "reader", ["read"])).key;
  const sender = (await mesh.store.createApiKey(mesh.appId, "sender", ["send"])).key;
  const { messageId } = await mesh.send("d", 1);

  const cases: [string, string, unknown, string, number][] = [
    ["POST", "/v1/messages", { to: { deviceId: "d" }, data: 1 }, reader, 403],
    ["POST", "/v1/messages/batch", { messages: [{ to: { deviceId: "d" }, data: 1 }] }, reader, 403],
    ["PUT", "/v1/devices/d/preferences", {}, reader, 403],
    ["GET", `/v1/messages/${messageId}`, undefined, sender, 403],
    ["GET", "/v1/stats", undefined, sender, 403],
    ["GET", "/v1/nodes/all", undefined, sender, 403],
    ["GET", "/v1/nodes/all", undefined, reader, 403],
    ["POST", "/v1/nodes/relay-1/drain", {}, sender, 403],
    // The app's admin key is still an app key: it cannot drain the relays every app shares.
    ["GET", "/v1/nodes/all", undefined, mesh.apiKey, 403],
    ["POST", "/v1/nodes/relay-1/drain", {}, mesh.apiKey, 403],
    ["GET", "/v1/apps", undefined, mesh.apiKey, 403],
    ["GET", `/v1/messages/${messageId}`, undefined, reader, 200],
    ["POST", "/v1/messages", { to: { deviceId: "d" }, data: 1 }, sender, 202],
    ["GET", "/v1/nodes/all", undefined, mesh.operatorKey, 200],
    // Nor does the operator credential act for an app.
    ["POST", "/v1/messages", { to: { deviceId: "d" }, data: 1 }, mesh.operatorKey, 401],
  ];
  for (const [method, path, body, key, status] of cases) {
    const res = await mesh.api(method, path, body, key);
    expect([method, path, res.status]).toEqual([method, path, status]);
    if (status === 403) expect(res.body.error.code).toBe(path.startsWith("/v1/nodes") || path === "/v1/apps" ? "OPERATOR_REQUIRED" : "FORBIDDEN");
  }
  expect((await mesh.api("GET", "/v1/nodes/all", undefined, "po_not-the-configured-one-at-all")).status).toBe(401);
});
