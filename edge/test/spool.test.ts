// The edge spool, in one process over a real sqld primary that the test kills with -9: sends made
// while it is away are answered 202 "queued", tracked as queued, and reach the device once and in
// order when it is back; a send the store refuses on forwarding is tracked as refused; a full
// spool answers 503 SPOOL_FULL and keeps nothing. A refused send reaches the app as message.refused.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../store/open.ts";
import { startSqld } from "../../ops/sqld.ts";
import { connectDevice, startTestMesh, tempDir, until } from "../../test-support/harness.ts";
import { startWebhookReceiver } from "../../test-support/receivers/webhook-receiver.ts";

async function meshOverSqld(dir: string, extra: Record<string, unknown> = {}) {
  const sqld = await startSqld({ dir: join(dir, "sqld") });
  (await openStore({ db: sqld.url, dbSync: "normal" })).close();
  const mesh = await startTestMesh(
    { db: `file:${join(dir, "replica.db")}`, dbSyncUrl: sqld.url, dbPrimaryUrl: sqld.url, migrateOnStart: false, dbSyncIntervalMs: 100, spoolPath: join(dir, "edge.spool"), ...extra },
    join(dir, "mesh"),
  );
  return { sqld, mesh };
}

async function metric(edge: string, name: string): Promise<number> {
  const text = await (await fetch(`${edge}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
}

test("while the store is away, sends are queued on the edge and later delivered once, in order", async () => {
  using dir = tempDir();
  await using hooks = await startWebhookReceiver();
  const { sqld, mesh } = await meshOverSqld(dir.path, { webhookPollMs: 50 });
  try {
    const hook = await mesh.api("POST", "/v1/app/webhooks", { url: hooks.url, events: ["message.refused"] });
    hooks.trust(hook.body.secret);
    const creds = await mesh.device("phone");
    await using device = await connectDevice(mesh.ws, creds);
    const first = await mesh.send("phone", { n: 0 });
    expect(first).not.toHaveProperty("state");
    await device.waitFor(1);

    const keyedBefore = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 0 }, idempotencyKey: "k-0" });
    await device.waitFor(2);
    await mesh.store.freshen(); // the replica has the key before the primary goes
    await sqld.kill();
    const queued: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const res = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n } });
      expect(res.status).toBe(202);
      expect(res.body.state).toBe("queued");
      queued.push(res.body.messageId);
    }
    // A key the store took before the outage answers its first result again, from the replica.
    const repeated = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 0 }, idempotencyKey: "k-0" });
    expect([repeated.status, repeated.body.messageId]).toEqual([202, keyedBefore.body.messageId]);
    // A repeated idempotency key answers the queued send again; a different request under it is refused.
    const keyed = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 21 }, idempotencyKey: "k-21" });
    const again = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 21 }, idempotencyKey: "k-21" });
    expect(again.body.messageId).toBe(keyed.body.messageId);
    expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 99 }, idempotencyKey: "k-21" })).status).toBe(422);
    queued.push(keyed.body.messageId);
    const batch = await mesh.api("POST", "/v1/messages/batch", { messages: [{ to: { deviceId: "phone" }, data: { n: 22 } }, { to: { deviceId: "phone" }, data: { n: 23 } }] });
    expect(batch.body.results.map((r: { status: number; result: { state: string } }) => [r.status, r.result.state])).toEqual([
      [202, "queued"],
      [202, "queued"],
    ]);
    queued.push(...batch.body.results.map((r: { result: { messageId: string } }) => r.result.messageId));
    // Nothing in the store can say whether this device exists: it is queued, and refused on forwarding.
    const stranger = await mesh.api("POST", "/v1/messages", { to: { deviceId: "nobody" }, data: { n: -1 } });
    expect(stranger.body.state).toBe("queued");
    // A request that fails a check needing no store is refused at once, never kept.
    expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n: 1 }, deliverAt: 1e15 })).status).toBe(400);

    const tracked = await mesh.api("GET", `/v1/messages/${queued[0]}`);
    expect(tracked.body).toMatchObject({ messageId: queued[0], state: "queued", attempts: 0 });
    expect(await metric(mesh.edge, "pushmesh_spool_entries")).toBe(24);
    expect(device.received).toHaveLength(2);

    await sqld.restart();
    await device.waitFor(25, 30_000);
    expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual([0, ...Array.from({ length: 24 }, (_, n) => n)]);
    expect(device.received.map((m) => m.messageId).slice(2)).toEqual(queued);
    // Refused only after a second look at a freshened replica: the device might have been new.
    await until(async () => (await mesh.api("GET", `/v1/messages/${stranger.body.messageId}`)).body.state === "refused", "the refusal");
    const refused = await mesh.api("GET", `/v1/messages/${stranger.body.messageId}`);
    expect(refused.body).toMatchObject({ state: "refused", error: { code: "DEVICE_NOT_FOUND" } });
    // The app heard 202 for it: a webhook tells it otherwise.
    await until(() => hooks.events.length === 1, "the message.refused event");
    expect(hooks.events[0]).toMatchObject({ type: "message.refused", data: { messageId: stranger.body.messageId, error: { code: "DEVICE_NOT_FOUND" } } });
    expect(await metric(mesh.edge, "pushmesh_spool_entries")).toBe(0);
    // The store answers for a forwarded message; a send now goes straight to it.
    expect((await mesh.api("GET", `/v1/messages/${queued[0]}`)).body.targets).toBe(1);
    expect(await mesh.send("phone", { n: 24 })).not.toHaveProperty("state");
    await device.waitFor(26);
    expect(new Set(device.received.map((m) => m.messageId)).size).toBe(26);
  } finally {
    await mesh[Symbol.asyncDispose]();
    await sqld.stop();
  }
});

test("a full spool answers 503 SPOOL_FULL with Retry-After and keeps nothing", async () => {
  using dir = tempDir();
  const { sqld, mesh } = await meshOverSqld(dir.path, { spoolMaxEntries: 2 });
  try {
    await mesh.device("phone");
    await sqld.kill();
    for (let n = 0; n < 2; n++) expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: { n } })).body.state).toBe("queued");
    const res = await fetch(`${mesh.edge}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ to: { deviceId: "phone" }, data: { n: 2 } }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SPOOL_FULL");
    expect(await metric(mesh.edge, "pushmesh_spool_entries")).toBe(2);
    expect(await metric(mesh.edge, "pushmesh_spool_full_total")).toBe(1);
  } finally {
    await mesh[Symbol.asyncDispose]();
    await sqld.stop();
  }
});
