// POST /v1/handover on its own: only a body signed with the mesh's hand-over secret is taken; each
// send keeps the id and time the other edge gave it; a hand-over made twice writes once; an item
// the store refuses answers its error and does not stop the others.
import { expect, test } from "bun:test";
import { signWebhook } from "../../core/webhook-signature.ts";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { HANDOVER_SECRET } from "../routes/handover.ts";

test("signed hand-overs are sent in order under their own ids, once however often they come; others are refused", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("phone");
  await using device = await connectDevice(mesh.ws, creds);
  const secret = await mesh.store.meshSecret(HANDOVER_SECRET);
  const queuedAt = Date.now() - 5_000;
  const items = [1, 2].map((n) => ({ appId: mesh.appId, messageId: crypto.randomUUID(), queuedAt: queuedAt + n, request: { to: { deviceId: "phone" }, data: { n } } }));
  items.push({ appId: mesh.appId, messageId: crypto.randomUUID(), queuedAt, request: { to: { deviceId: "nobody" }, data: { n: 3 } } });
  const body = JSON.stringify({ items });
  const handOver = async (signature: string | null, text = body) =>
    fetch(`${mesh.edge}/v1/handover`, { method: "POST", headers: { "content-type": "application/json", ...(signature ? { "pushmesh-handover": signature } : {}) }, body: text });

  for (const [signature, text] of [
    [null, body],
    [await signWebhook(body, ["another-secret"], Date.now()), body],
    [await signWebhook(body, [secret], Date.now() - 10 * 60_000), body],
    [await signWebhook(body, [secret], Date.now()), body.replace('"n":1', '"n":9')],
  ] as const) {
    const refused = await handOver(signature, text);
    expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([401, "UNAUTHORIZED"]);
  }

  for (let round = 0; round < 2; round++) {
    const res = await handOver(await signWebhook(body, [secret], Date.now()));
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { status: number; error?: { code: string } }[] };
    expect(results.map((r) => [r.status, r.error?.code])).toEqual([
      [202, undefined],
      [202, undefined],
      [404, "DEVICE_NOT_FOUND"],
    ]);
  }
  await device.waitFor(2);
  await Bun.sleep(300);
  expect(device.received.map((m) => [m.messageId, m.data])).toEqual([
    [items[0]!.messageId, { n: 1 }],
    [items[1]!.messageId, { n: 2 }],
  ]);
  const tracked = (await mesh.api("GET", `/v1/messages/${items[0]!.messageId}`)).body;
  expect(tracked.createdAt).toBe(queuedAt + 1);
});

test("a live hand-over counts against its app's request rate where it is written; one from a spool does not", async () => {
  await using mesh = await startTestMesh({ rateLimitRequests: 1, rateLimitWindowSeconds: 3600 });
  await mesh.store.registerDevices(mesh.appId, ["phone"]);
  const secret = await mesh.store.meshSecret(HANDOVER_SECRET);
  const handOver = async (live: boolean) => {
    const body = JSON.stringify({ live, items: [{ appId: mesh.appId, messageId: crypto.randomUUID(), queuedAt: Date.now(), request: { to: { deviceId: "phone" }, data: 1 } }] });
    const res = await fetch(`${mesh.edge}/v1/handover`, { method: "POST", headers: { "content-type": "application/json", "pushmesh-handover": await signWebhook(body, [secret], Date.now()) }, body });
    return ((await res.json()) as { results: { status: number; error?: { code: string } }[] }).results[0]!;
  };
  expect((await handOver(true)).status).toBe(202);
  expect(await handOver(true)).toMatchObject({ status: 429, error: { code: "RATE_LIMITED" } });
  expect((await handOver(false)).status).toBe(202);
});
