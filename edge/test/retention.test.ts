// Retention over the API and the running purge: an app sets its own, the purge removes settled
// and expired rows and the messages nobody references any more, keeps an undelivered message
// within its TTL, and counts what it removed in /metrics.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("GET and PUT /v1/app/retention: own values, the defaults where null, refused values named, changes audited", async () => {
  await using mesh = await startTestMesh({ retentionSettledSeconds: 86_400 });
  const initial = await mesh.api("GET", "/v1/app/retention");
  expect(initial.body).toEqual({
    own: { settledSeconds: null, topicSeconds: null, topicMaxEntries: null },
    effective: { settledSeconds: 86_400, topicSeconds: 7 * 86_400, topicMaxEntries: 10_000 },
  });
  const set = await mesh.api("PUT", "/v1/app/retention", { settledSeconds: 3600, topicSeconds: null, topicMaxEntries: 50 });
  expect(set.status).toBe(200);
  expect(set.body.effective).toEqual({ settledSeconds: 3600, topicSeconds: 7 * 86_400, topicMaxEntries: 50 });
  const bad = await mesh.api("PUT", "/v1/app/retention", { settledSeconds: 5, topicSeconds: null, topicMaxEntries: null });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body.error)).toContain("settledSeconds");
  expect((await mesh.api("GET", "/v1/app/retention")).body.own.settledSeconds).toBe(3600);
  const audit = (await mesh.api("GET", "/v1/app/audit")).body.entries as { action: string }[];
  expect(audit.filter((e) => e.action === "app.retention_changed")).toHaveLength(1);
});

test("the purge removes delivered and expired messages, keeps an undelivered one, and shows in /metrics", async () => {
  await using mesh = await startTestMesh({ purgeIntervalSeconds: 3600 });
  const reader = await mesh.device("reader");
  const offline = await mesh.device("offline");
  await using session = await connectDevice(mesh.ws, reader);
  const read = await mesh.send("reader", { n: "read" });
  await session.waitFor(1);
  const kept = await mesh.send("offline", { n: "kept" });
  const lapsing = await mesh.send("offline", { n: "lapsing" }, { ttl: 1 });
  const delivered = async () => (await mesh.api("GET", `/v1/messages/${read.messageId}`)).body.states?.delivered === 1;
  for (let i = 0; !(await delivered()); i++) {
    if (i > 200) throw new Error("the read message never showed delivered");
    await Bun.sleep(25);
  }
  // Below what the API allows, straight in the store: the test waits seconds, not minutes.
  await mesh.store.setAppRetention(mesh.appId, { settledSeconds: 1, topicSeconds: null, topicMaxEntries: null });
  await Bun.sleep(2_100);
  const purged = await mesh.purger.runOnce();
  expect(purged.inbox).toBeGreaterThanOrEqual(2);
  expect(purged.messages).toBeGreaterThanOrEqual(2);

  expect((await mesh.api("GET", `/v1/messages/${read.messageId}`)).status).toBe(404);
  expect((await mesh.api("GET", `/v1/messages/${lapsing.messageId}`)).status).toBe(404);
  expect((await mesh.api("GET", `/v1/messages/${kept.messageId}`)).body.states.pending).toBe(1);
  await using late = await connectDevice(mesh.ws, offline);
  await late.waitFor(1);
  expect(late.received.map((m) => m.data)).toEqual([{ n: "kept" }]);

  const metrics = await (await fetch(`${mesh.edge}/metrics`)).text();
  expect(metrics).toMatch(/pushmesh_purged_rows_total\{kind="inbox"[^}]*\} [2-9]/);
  expect(metrics).toMatch(/pushmesh_purge_last_pass_timestamp_seconds(\{[^}]*\})? [1-9]/);
});
