// No single message can block a device or a topic: a stored message the relay cannot turn into a
// frame is marked failed with its reason, the stream moves past it, and the connection stays up.
// The rows are put into the store directly, past the edge's own checks.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { encodeData } from "../../core/codec.ts";
import { uuidv7 } from "../../core/ids.ts";
import { openStore } from "../../store/open.ts";
import { connectDevice, startTestMesh, type TestMesh } from "../../test-support/harness.ts";

const ONE_MB_TEXT = "x".repeat(1 << 20);

/** A message written straight to the store, past the edge's size check: too large for any frame. */
async function oversized(mesh: TestMesh, deviceId: string): Promise<string> {
  const now = Date.now();
  const message = { appId: mesh.appId, messageId: uuidv7(now), priority: 1 as const, data: encodeData(ONE_MB_TEXT), collapseKey: null, category: null, createdAt: now, expiresAt: null };
  await mesh.store.writeMessage({ message, targetCount: 1, deliver: [deviceId], deferred: [], at: now });
  return message.messageId;
}

/** A row as an older store kept it (the body as JSON text), holding text that is not JSON at all. */
async function damagedLegacyRow(mesh: TestMesh, deviceId: string): Promise<string> {
  const raw = await openStore({ db: `file:${join(mesh.dir, "mesh.db")}`, dbSync: "normal", migrateOnStart: false });
  const messageId = uuidv7();
  try {
    await raw.client.batch(
      [
        { sql: "INSERT INTO messages (id, app_id, priority, data, created_at, target_count) VALUES (?, ?, 1, '{\"half\": ', ?, 1)", args: [messageId, mesh.appId, Date.now()] },
        { sql: "UPDATE devices SET last_seq = last_seq + 1 WHERE app_id = ? AND id = ?", args: [mesh.appId, deviceId] },
        {
          sql: "INSERT INTO inbox (app_id, device_id, seq, message_id, state) SELECT app_id, id, last_seq, ?, 0 FROM devices WHERE app_id = ? AND id = ?",
          args: [messageId, mesh.appId, deviceId],
        },
      ],
      "write",
    );
  } finally {
    raw.close();
  }
  return messageId;
}

for (const transport of ["ws", "tcp"] as const) {
  test(`${transport}: messages no frame can carry are marked failed with a reason, and the next one still arrives on the same connection`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device(`stuck-${transport}`);
    await using device = await connectDevice(transport === "ws" ? mesh.ws : mesh.tcp, creds, { transport });
    await device.waitForEvent("connected");
    const tooLarge = await oversized(mesh, creds.deviceId);
    const damaged = await damagedLegacyRow(mesh, creds.deviceId);
    const next = await mesh.send(creds.deviceId, { after: "the bad ones" });
    await device.waitFor(1, 10_000);
    expect(device.received.map((m) => [m.seq, m.messageId, m.data])).toEqual([[3, next.messageId, { after: "the bad ones" }]]);
    expect(device.events.filter((e) => e.type === "connected")).toHaveLength(1);

    const failedOf = async (messageId: string) => {
      for (let i = 0; i < 100; i++) {
        const { body } = await mesh.api("GET", `/v1/messages/${messageId}`);
        if (body.states.failed === 1) return body;
        await Bun.sleep(20);
      }
      throw new Error(`message ${messageId} was never marked failed`);
    };
    const large = await failedOf(tooLarge);
    expect(large.recipients[0]).toMatchObject({ deviceId: creds.deviceId, state: "failed", seq: 1 });
    expect(large.recipients[0].reason).toStartWith("frame_too_large");
    const legacy = await failedOf(damaged);
    expect(legacy.recipients[0]).toMatchObject({ state: "failed", seq: 2 });
    expect(legacy.recipients[0].reason).toStartWith("undeliverable_payload");
  });
}

test("a device that reconnects is not offered a failed message again: the stream stays past it", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("replayed");
  const tooLarge = await oversized(mesh, "replayed");
  {
    await using first = await connectDevice(mesh.ws, creds);
    await first.waitForEvent("connected");
    for (let i = 0; i < 100 && (await mesh.api("GET", `/v1/messages/${tooLarge}`)).body.states.failed !== 1; i++) await Bun.sleep(20);
  }
  await mesh.send("replayed", { n: 2 });
  await using second = await connectDevice(mesh.ws, creds);
  await second.waitFor(1, 10_000);
  expect(second.received.map((m) => m.seq)).toEqual([2]);
  expect(second.events.filter((e) => e.type === "error")).toEqual([]);
});

test("a topic message no frame can carry is passed over; subscribers get the next one and stay connected", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("reader");
  expect((await mesh.api("POST", "/v1/topics/wide/subscribers", { deviceIds: ["reader"] })).status).toBe(200);
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitForEvent("connected");
  const now = Date.now();
  await mesh.store.publishTopic(
    { appId: mesh.appId, messageId: uuidv7(now), priority: 1, data: encodeData(ONE_MB_TEXT), collapseKey: null, category: null, createdAt: now, expiresAt: null },
    "wide",
  );
  const sent = await mesh.api("POST", "/v1/messages", { to: { topic: "wide" }, data: { fits: true } });
  expect(sent.status).toBe(202);
  await device.waitForTopic(1, 10_000);
  expect(device.topicMessages.map((m) => [m.topic, m.offset, m.data])).toEqual([["wide", 2, { fits: true }]]);
  expect(device.events.filter((e) => e.type === "connected")).toHaveLength(1);
});
