// Closes the relay decides on its own say why in an ERROR frame first, so a raw TCP client (which
// has no close code) can tell HEARTBEAT_TIMEOUT, SESSION_REPLACED and SLOW_CONSUMER apart.
import { expect, test } from "bun:test";
import { FrameType, WireError, type WireErrorName } from "../../core/protocol.ts";
import { startTestMesh, type TestMesh } from "../../test-support/harness.ts";
import { helloFrame, type RawPeer, rawPeer, TRANSPORTS } from "../../test-support/raw.ts";

const fastHeartbeats = { heartbeat: { min: 1, default: 30, max: 600 } };

/** The last frame before the close is ERROR `name`; on WebSocket the close code is the same. */
async function expectClosedWith(peer: RawPeer, name: WireErrorName) {
  const { code } = await peer.closed;
  expect(peer.frames.at(-1)).toMatchObject({ type: FrameType.ERROR, code: WireError[name].code, message: WireError[name].reason });
  if (peer.transport === "ws") expect(code).toBe(WireError[name].code);
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const openSessions = (mesh: TestMesh) => {
  const { ws, tcp } = mesh.relay.connections;
  return ws + tcp;
};

for (const transport of TRANSPORTS) {
  test(`${transport}: HEARTBEAT_TIMEOUT is sent before the close, with or without a HELLO`, async () => {
    await using mesh = await startTestMesh(fastHeartbeats);
    const creds = await mesh.device("quiet");
    const silent = await rawPeer(transport, mesh);
    const quiet = await rawPeer(transport, mesh);
    quiet.sendFrames(helloFrame("quiet", creds.token, { heartbeat: 1 }));
    expect((await quiet.nextFrame()).type).toBe(FrameType.WELCOME);
    await expectClosedWith(silent, "HEARTBEAT_TIMEOUT");
    await expectClosedWith(quiet, "HEARTBEAT_TIMEOUT");
  });

  test(`${transport}: SESSION_REPLACED is sent to the older connection before it closes`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device("twice");
    const older = await rawPeer(transport, mesh);
    older.sendFrames(helloFrame("twice", creds.token));
    expect((await older.nextFrame()).type).toBe(FrameType.WELCOME);
    const newer = await rawPeer(transport, mesh);
    newer.sendFrames(helloFrame("twice", creds.token));
    expect((await newer.nextFrame()).type).toBe(FrameType.WELCOME);
    await expectClosedWith(older, "SESSION_REPLACED");
    newer.close();
  });

  test(`${transport}: SLOW_CONSUMER is sent after what was buffered, for a reader that comes back in time`, async () => {
    await using mesh = await startTestMesh({ stallTimeoutMs: 300 });
    const creds = await mesh.device("stalled");
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames(helloFrame("stalled", creds.token));
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    peer.pause();
    // About 12 MB: more than the kernel's socket buffers hold, so the relay's own buffer fills.
    const blob = "z".repeat(30_000);
    for (let i = 0; i < 400 && openSessions(mesh) > 0; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => mesh.send("stalled", { i: i + j, blob })));
    }
    await until(() => openSessions(mesh) === 0, "the relay to close the stalled session");
    peer.resume();
    await expectClosedWith(peer, "SLOW_CONSUMER");
    expect(peer.frames.filter((f) => f.type === FrameType.PUSH).length).toBeGreaterThan(0);
  }, 60_000);
}
