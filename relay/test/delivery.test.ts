// Send → receive over real sockets: order, exactly-once to the app, resume after being offline.
import { expect, test } from "bun:test";
import { MemoryStateStore } from "../../core/client/client.ts";
import { FrameType, PROTOCOL_VERSION } from "../../core/protocol.ts";
import { assertStrictlyIncreasing, connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { frameBytes, rawWs } from "../../test-support/raw.ts";

for (const transport of ["ws", "tcp"] as const) {
  test(`${transport}: 1,000 messages arrive in order, each once`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device(`bulk-${transport}`);
    await using device = await connectDevice(transport === "ws" ? mesh.ws : mesh.tcp, creds, { transport });
    await device.waitForEvent("connected");
    const sent: string[] = [];
    // Concurrent senders, as a busy back end would be; order is per device sequence, not per HTTP call.
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => mesh.send(creds.deviceId, { n: batch * 100 + i })),
      );
      sent.push(...results.map((r) => r.messageId));
    }
    await device.waitFor(1000, 20_000);
    await Bun.sleep(100);
    expect(device.received.length).toBe(1000);
    const seqs = device.received.map((m) => m.seq);
    assertStrictlyIncreasing(seqs);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(device.received.map((m) => m.messageId))).toEqual(new Set(sent));
    // Every one acknowledged and marked delivered in the store.
    await Bun.sleep(200);
    const status = await mesh.api("GET", `/v1/messages/${sent[999]}`);
    expect(status.body.states).toEqual({ pending: 0, delivered: 1, expired: 0, collapsed: 0, suppressed: 0, failed: 0 });
  }, 30_000);
}

test("a device offline during sends gets exactly the missed ones when it reconnects", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("phone");
  const state = new MemoryStateStore();
  {
    await using device = await connectDevice(mesh.ws, creds, { state });
    await mesh.send("phone", { n: 1 });
    await mesh.send("phone", { n: 2 });
    await device.waitFor(2);
  }
  for (let n = 3; n <= 12; n++) await mesh.send("phone", { n });
  await using again = await connectDevice(mesh.tcp, creds, { transport: "tcp", state });
  await again.waitFor(10);
  await Bun.sleep(100);
  expect(again.received.map((m) => (m.data as { n: number }).n)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  expect(again.received.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test("a dropped connection mid-stream resumes with no loss and no duplicate to the app", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("flaky");
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitForEvent("connected");
  const sending = (async () => {
    for (let n = 1; n <= 300; n++) {
      await mesh.send("flaky", { n });
      if (n % 60 === 0) device.client.dropConnection();
    }
  })();
  await sending;
  await device.waitFor(300, 20_000);
  await Bun.sleep(200);
  expect(device.received.length).toBe(300);
  expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  expect(device.events.filter((e) => e.type === "connected").length).toBeGreaterThan(1);
});

test("a send to several devices gives each its own sequence", async () => {
  await using mesh = await startTestMesh();
  const a = await mesh.device("multi-a");
  const b = await mesh.device("multi-b");
  await mesh.send("multi-a", { only: "a" });
  const { targets } = await mesh.send(["multi-a", "multi-b"], { both: true });
  expect(targets).toBe(2);
  await using da = await connectDevice(mesh.ws, a);
  await using db = await connectDevice(mesh.tcp, b, { transport: "tcp" });
  await da.waitFor(2);
  await db.waitFor(1);
  expect(da.received.map((m) => [m.seq, m.data])).toEqual([
    [1, { only: "a" }],
    [2, { both: true }],
  ]);
  expect(db.received.map((m) => [m.seq, m.data])).toEqual([[1, { both: true }]]);
});

test("an expired message is never delivered and is counted as expired", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("late");
  const expiring = await mesh.send("late", { old: true }, { ttl: 1 });
  await Bun.sleep(1100);
  const fresh = await mesh.send("late", { fresh: true });
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(1);
  await Bun.sleep(150);
  expect(device.received.map((m) => m.messageId)).toEqual([fresh.messageId]);
  const status = await mesh.api("GET", `/v1/messages/${expiring.messageId}`);
  expect(status.body.states).toEqual({ pending: 0, delivered: 0, expired: 1, collapsed: 0, suppressed: 0, failed: 0 });
});

test("lastSeq in HELLO counts only under the device's epoch", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("epochs");
  for (let n = 1; n <= 3; n++) await mesh.send("epochs", { n });
  const epoch = (await mesh.store.getDevice(mesh.appId, "epochs"))!.epoch;
  const pushedAfter = async (lastSeq: number, withEpoch: number) => {
    const peer = await rawWs(mesh.ws);
    peer.send(frameBytes({ type: FrameType.HELLO, version: PROTOCOL_VERSION, deviceId: "epochs", token: creds.token, lastSeq, heartbeat: 30, epoch: withEpoch, topics: {} }));
    const welcome = await peer.nextFrame();
    expect(welcome).toMatchObject({ type: FrameType.WELCOME, latestSeq: 3, epoch });
    const seqs: number[] = [];
    for (;;) {
      const frame = await peer.nextFrame(300).catch(() => null);
      if (!frame) break;
      if (frame.type === FrameType.PUSH) seqs.push(frame.seq);
    }
    peer.close();
    return seqs;
  };
  expect(await pushedAfter(2, epoch)).toEqual([3]);
  expect(await pushedAfter(2, 0)).toEqual([1, 2, 3]);
  expect(await pushedAfter(2, epoch + 1)).toEqual([1, 2, 3]);
  // A lastSeq above what exists is clamped: nothing to push, nothing invented.
  expect(await pushedAfter(99, epoch)).toEqual([]);
});
