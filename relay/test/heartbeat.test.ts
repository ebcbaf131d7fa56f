// Heartbeat deadlines follow the interval each device announces, and heartbeat answers close gaps.
import { expect, test } from "bun:test";
import { encodeData, lengthPrefixed } from "../../core/codec.ts";
import { uuidv7 } from "../../core/ids.ts";
import { FrameType, PROTOCOL_VERSION, WireError } from "../../core/protocol.ts";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { frameBytes, rawTcp, rawWs } from "../../test-support/raw.ts";

const fastHeartbeats = { heartbeat: { min: 1, default: 30, max: 600 } };

const hello = (deviceId: string, token: string, heartbeat: number) =>
  frameBytes({ type: FrameType.HELLO, version: PROTOCOL_VERSION, deviceId, token, lastSeq: 0, heartbeat, epoch: 0, topics: {} });

test("a device announcing 1 s is dropped ~2.5 s after it goes silent; one announcing 30 s is not", async () => {
  await using mesh = await startTestMesh(fastHeartbeats);
  const quick = await mesh.device("quick");
  const slow = await mesh.device("slow");
  const quickPeer = await rawWs(mesh.ws);
  const slowPeer = await rawTcp(mesh.tcp);
  const started = performance.now();
  quickPeer.send(hello("quick", quick.token, 1));
  slowPeer.send(lengthPrefixed(hello("slow", slow.token, 30)));
  expect((await quickPeer.nextFrame()).type).toBe(FrameType.WELCOME);
  expect((await slowPeer.nextFrame()).type).toBe(FrameType.WELCOME);
  const { code } = await quickPeer.closed;
  const elapsed = performance.now() - started;
  expect(code).toBe(WireError.HEARTBEAT_TIMEOUT.code);
  // 2.5 × 1 s, found by a sweep that runs every second.
  expect(elapsed).toBeGreaterThan(2000);
  expect(elapsed).toBeLessThan(5000);
  const stillOpen = await Promise.race([slowPeer.closed.then(() => false), Bun.sleep(500).then(() => true)]);
  expect(stillOpen).toBe(true);
  slowPeer.close();
});

test("a device that keeps heartbeating stays connected and each answer carries the latest sequence", async () => {
  await using mesh = await startTestMesh(fastHeartbeats);
  const creds = await mesh.device("steady");
  const peer = await rawWs(mesh.ws);
  peer.send(hello("steady", creds.token, 1));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  await mesh.send("steady", { n: 1 });
  expect(await peer.nextFrame()).toMatchObject({ type: FrameType.PUSH, seq: 1 });
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(700);
    peer.send(frameBytes({ type: FrameType.HEARTBEAT, interval: 1 }));
    expect(await peer.nextFrame()).toEqual({ type: FrameType.HEARTBEAT_ACK, latestSeq: 1 });
  }
  expect(peer.frames.some((f) => f.type === FrameType.ERROR)).toBe(false);
  peer.close();
});

test("a connection that never says HELLO is closed", async () => {
  await using mesh = await startTestMesh(fastHeartbeats);
  const peer = await rawWs(mesh.ws);
  const { code } = await peer.closed;
  expect(code).toBe(WireError.HEARTBEAT_TIMEOUT.code);
});

test("a message whose signal was lost reaches the device at its next heartbeat", async () => {
  await using mesh = await startTestMesh(fastHeartbeats);
  const creds = await mesh.device("gap");
  await using device = await connectDevice(mesh.ws, creds, { heartbeat: 1 });
  await device.waitForEvent("connected");
  // Written to the store with no signal, as when the engine loses one.
  const message = { appId: mesh.appId, messageId: uuidv7(), priority: 1 as const, data: encodeData({ lost: "signal" }), collapseKey: null, category: null, createdAt: Date.now(), expiresAt: null };
  await mesh.store.writeMessage({ message, targetCount: 1, deliver: ["gap"], deferred: [], at: message.createdAt });
  await Bun.sleep(300);
  expect(device.received).toHaveLength(0);
  await device.waitFor(1, 4000);
  expect(device.received[0]).toMatchObject({ seq: 1, data: { lost: "signal" } });
});
