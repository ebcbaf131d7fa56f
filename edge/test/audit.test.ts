// The audit log records who did what, on what, from where: the operator's fleet actions and an
// app admin's key changes and erasures. Operators read it all; an app admin its own app's part.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

type Entry = { id: number; actor: { kind: string; keyId?: string; appId?: string }; appId: string | null; action: string; target: string; from: string | null };

test("operator and app-admin actions are recorded with their actor and address, newest first", async () => {
  await using mesh = await startTestMesh();
  const other = await mesh.api("POST", "/v1/apps", { name: "audited" }, mesh.operatorKey);
  await mesh.api("POST", "/v1/nodes/relay-1/drain", { draining: false }, mesh.operatorKey);
  const key = await mesh.api("POST", "/v1/keys", { name: "temp" });
  await mesh.api("DELETE", `/v1/keys/${key.body.keyId}`);
  await mesh.device("doomed");
  await mesh.api("DELETE", "/v1/devices/doomed");

  const all = (await mesh.api("GET", "/v1/audit", undefined, mesh.operatorKey)).body.entries as Entry[];
  expect(all.map((e) => [e.action, e.target])).toEqual([
    ["device.erased", "doomed"],
    ["key.revoked", key.body.keyId],
    ["key.created", key.body.keyId],
    ["node.undrained", "relay-1"],
    ["app.created", other.body.appId],
  ]);
  expect(all[4]).toMatchObject({ actor: { kind: "operator" }, appId: null, from: "127.0.0.1" });
  const demoKeyId = all[1]!.actor.keyId;
  expect(all[1]).toMatchObject({ actor: { kind: "app_key", appId: mesh.appId }, appId: mesh.appId });
  expect(demoKeyId).toStartWith("key_");

  const mine = (await mesh.api("GET", "/v1/app/audit")).body.entries as Entry[];
  expect(mine.map((e) => e.action)).toEqual(["device.erased", "key.revoked", "key.created"]);
  const theirs = (await mesh.api("GET", "/v1/app/audit", undefined, other.body.apiKey)).body.entries as Entry[];
  expect(theirs).toEqual([]);
  const paged = (await mesh.api("GET", `/v1/audit?limit=2&before=${all[1]!.id}`, undefined, mesh.operatorKey)).body.entries as Entry[];
  expect(paged.map((e) => e.action)).toEqual(["key.created", "node.undrained"]);
});
