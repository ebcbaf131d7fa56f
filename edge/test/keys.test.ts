// An app's API keys over HTTP: least privilege by default, shown once, rotated with a grace period,
// revoked at once on this edge, never the last admin key, and never another app's.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("a new key sends only, unless asked; its secret is shown once and never listed", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const made = await mesh.api("POST", "/v1/keys", { name: "backend" });
  expect(made.status).toBe(201);
  expect(made.body.key).toStartWith("pm_");
  expect(made.body).toMatchObject({ name: "backend", scopes: ["send"], revokedAt: null });
  expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1 }, made.body.key)).status).toBe(202);
  expect((await mesh.api("GET", "/v1/stats", undefined, made.body.key)).status).toBe(403);
  expect((await mesh.api("GET", "/v1/keys", undefined, made.body.key)).status).toBe(403);

  const reader = await mesh.api("POST", "/v1/keys", { name: "dashboards", scopes: ["read", "read"] });
  expect(reader.body.scopes).toEqual(["read"]);
  const listed = await mesh.api("GET", "/v1/keys");
  expect(listed.body.keys.map((k: { name: string }) => k.name).sort()).toEqual(["backend", "dashboards", "default", "demo"]);
  expect(JSON.stringify(listed.body)).not.toContain(made.body.key);
});

test("a revoked key stops at once on this edge; the app's last admin key cannot be revoked", async () => {
  await using mesh = await startTestMesh();
  const made = await mesh.api("POST", "/v1/keys", { name: "soon gone", scopes: ["read"] });
  expect((await mesh.api("GET", "/v1/keys", undefined, mesh.apiKey)).status).toBe(200);
  expect((await mesh.api("GET", "/v1/stats", undefined, made.body.key)).status).toBe(200);
  const revoked = await mesh.api("DELETE", `/v1/keys/${made.body.keyId}`);
  expect(revoked.status).toBe(200);
  expect(revoked.body.revokedAt).toBeNumber();
  // It had just been used, so its answer was cached: the revoking edge forgets it at once.
  expect((await mesh.api("GET", "/v1/stats", undefined, made.body.key)).status).toBe(401);

  // The demo app has two admin keys: the one it was made with, and the derived one dev prints.
  const keyId = async (name: string) => (await mesh.api("GET", "/v1/keys")).body.keys.find((k: { name: string }) => k.name === name).keyId as string;
  const demoKeyId = await keyId("demo");
  expect((await mesh.api("DELETE", `/v1/keys/${await keyId("default")}`)).status).toBe(200);
  const last = await mesh.api("DELETE", `/v1/keys/${demoKeyId}`);
  expect(last.status).toBe(409);
  expect(last.body.error.code).toBe("LAST_ADMIN_KEY");
  const second = await mesh.api("POST", "/v1/keys", { name: "second admin", scopes: ["admin", "read", "send"] });
  expect((await mesh.api("DELETE", `/v1/keys/${demoKeyId}`)).status).toBe(200);
  expect((await mesh.api("GET", "/v1/keys", undefined, mesh.apiKey)).status).toBe(401);
  expect((await mesh.api("GET", "/v1/keys", undefined, second.body.key)).status).toBe(200);
});

test("a rotated key keeps working for its grace period only; the new one works at once", async () => {
  await using mesh = await startTestMesh();
  const old = await mesh.api("POST", "/v1/keys", { name: "rotating", scopes: ["read"] });
  expect((await mesh.api("GET", "/v1/stats", undefined, old.body.key)).status).toBe(200);
  const rotated = await mesh.api("POST", `/v1/keys/${old.body.keyId}/rotate`, { graceSeconds: 1 });
  expect(rotated.status).toBe(201);
  expect(rotated.body).toMatchObject({ name: "rotating", scopes: ["read"], replaced: { keyId: old.body.keyId } });
  const until = rotated.body.replaced.revokedAt as number;
  expect(until).toBeGreaterThan(Date.now());
  expect((await mesh.api("GET", "/v1/stats", undefined, rotated.body.key)).status).toBe(200);
  expect((await mesh.api("GET", "/v1/stats", undefined, old.body.key)).status).toBe(200);
  await Bun.sleep(Math.max(0, until - Date.now()) + 50);
  expect((await mesh.api("GET", "/v1/stats", undefined, old.body.key)).status).toBe(401);
  expect((await mesh.api("GET", "/v1/stats", undefined, rotated.body.key)).status).toBe(200);
});

test("another app's keys are not there: not listed, not rotated, not revoked", async () => {
  await using mesh = await startTestMesh();
  const other = await mesh.api("POST", "/v1/apps", { name: "other" }, mesh.operatorKey);
  expect(other.status).toBe(201);
  const mine = await mesh.api("POST", "/v1/keys", { name: "mine" });
  const theirs = await mesh.api("GET", "/v1/keys", undefined, other.body.apiKey);
  expect(theirs.body.keys.map((k: { keyId: string }) => k.keyId)).not.toContain(mine.body.keyId);
  for (const [method, path] of [["POST", `/v1/keys/${mine.body.keyId}/rotate`], ["DELETE", `/v1/keys/${mine.body.keyId}`]] as const) {
    const answer = await mesh.api(method, path, method === "POST" ? {} : undefined, other.body.apiKey);
    expect([path, answer.status, answer.body.error?.code]).toEqual([path, 404, "KEY_NOT_FOUND"]);
  }
  expect((await mesh.api("GET", "/v1/stats", undefined, mine.body.key)).status).toBe(403);
  expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "nobody" }, data: 1 }, mine.body.key)).status).toBe(404);
});
