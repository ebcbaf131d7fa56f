// A device that stops reading: the relay stops pushing to it at the high-water mark, keeps its
// memory bounded, serves everyone else, and the device gets everything once it reads again.
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import type { ReceivedMessage } from "../../core/client/client.ts";
import { type TcpConnect, tcpTransport } from "../../core/client/transport.ts";
import { SEND_HIGH_WATER } from "../listeners.ts";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

/** Sends ran concurrently, so check sequence order and that every payload came exactly once. */
function expectAllOnceInOrder(received: ReceivedMessage[], total: number) {
  expect(received.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(received.map((m) => (m.data as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
}

/** Bun.connect, keeping hold of the socket so the test can stop and restart reading. */
function pausableConnect() {
  let socket: Socket | null = null;
  const connect: TcpConnect = async (options) => {
    const s = await Bun.connect(options as unknown as Parameters<typeof Bun.connect>[0]);
    socket = s as unknown as Socket;
    return s as never;
  };
  return { connect, pause: () => socket?.pause(), resume: () => socket?.resume() };
}

test("a stalled reader is held at the high-water mark; others are unaffected; it gets everything after", async () => {
  await using mesh = await startTestMesh();
  const stalledCreds = await mesh.device("stalled");
  const healthyCreds = await mesh.device("healthy");
  const tap = pausableConnect();
  await using stalled = await connectDevice(mesh.tcp, stalledCreds, { transportFactory: tcpTransport(tap.connect) });
  await using healthy = await connectDevice(mesh.ws, healthyCreds);
  await stalled.waitForEvent("connected");
  await healthy.waitForEvent("connected");
  tap.pause();

  // About 12 MB: more than the kernel's socket buffers hold (here 4 MB to send, 128 KB to receive).
  const blob = "x".repeat(4000);
  const total = 3000;
  for (let i = 0; i < total; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => mesh.send("stalled", { i: i + j, blob })));
    await mesh.send("healthy", { i });
  }
  await healthy.waitFor(total / 100);
  await Bun.sleep(300);

  const session = (mesh.relay as unknown as { all: { list(): { deviceId: string; paused: boolean; conn: { buffered(): number } }[] } }).all.list().find(
    (s) => s.deviceId === "stalled",
  )!;
  expect(session.paused).toBe(true);
  // Bounded: what is buffered for the socket stops near the high-water mark, not at 4 MB.
  expect(session.conn.buffered()).toBeLessThan(SEND_HIGH_WATER + 64 * 1024);
  expect(stalled.received.length).toBeLessThan(total);

  tap.resume();
  await stalled.waitFor(total, 20_000);
  await Bun.sleep(200);
  expectAllOnceInOrder(stalled.received, total);
  expect(healthy.received).toHaveLength(total / 100);
}, 60_000);

test("a reader stalled past the stall timeout is closed and gets everything after reconnecting", async () => {
  await using mesh = await startTestMesh({ stallTimeoutMs: 500 });
  const creds = await mesh.device("stuck");
  const tap = pausableConnect();
  await using device = await connectDevice(mesh.tcp, creds, { transportFactory: tcpTransport(tap.connect) });
  await device.waitForEvent("connected");
  tap.pause();
  const blob = "y".repeat(8000);
  const total = 1500;
  for (let i = 0; i < total; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => mesh.send("stuck", { i: i + j, blob })));
  // The relay closes the session 500 ms into the stall, often before the sends are done; the paused
  // device only notices at its next heartbeat, some seconds later.
  await device.waitForEvent("disconnected", 1, 15_000);
  tap.resume();
  await device.waitFor(total, 30_000);
  await Bun.sleep(200);
  expectAllOnceInOrder(device.received, total);
}, 60_000);
