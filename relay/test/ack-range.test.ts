// Which ACKs a connection takes: 0 and anything up to the session's starting lastSeq are no-ops;
// above the highest seq this connection pushed is ACK_OUT_OF_RANGE, even before the first PUSH;
// a seq pushed before a FETCH rewound the stream stays acknowledgeable.
import { expect, test } from "bun:test";
import { decodeFrame, encodeFrame } from "../../core/codec.ts";
import { type Frame, FrameType, SERVER_FRAMES, WireError } from "../../core/protocol.ts";
import type { Connection } from "../../core/relay/session-host.ts";
import { startTestMesh } from "../../test-support/harness.ts";
import { errorThenClose, helloFrame, rawPeer, TRANSPORTS } from "../../test-support/raw.ts";

for (const transport of TRANSPORTS) {
  test(`${transport}: ACK 0 before any PUSH is a no-op; ACK 1 is out of range`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device("fresh");
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames(helloFrame("fresh", creds.token), { type: FrameType.ACK, seq: 0 }, { type: FrameType.HEARTBEAT, interval: 30 });
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    expect(await peer.nextFrame()).toEqual({ type: FrameType.HEARTBEAT_ACK, latestSeq: 0 });
    peer.sendFrames({ type: FrameType.ACK, seq: 1 });
    const { error } = await errorThenClose(peer);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.ACK_OUT_OF_RANGE.code });
  });

  test(`${transport}: ACKs at or below the starting lastSeq are no-ops; above it, before any PUSH, out of range`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device("returning");
    for (let n = 1; n <= 3; n++) await mesh.send("returning", { n });
    const first = await rawPeer(transport, mesh);
    first.sendFrames(helloFrame("returning", creds.token));
    const welcome = await first.nextFrame();
    if (welcome.type !== FrameType.WELCOME) throw new Error(`expected WELCOME, got ${welcome.type}`);
    for (let n = 1; n <= 3; n++) expect(await first.nextFrame()).toMatchObject({ type: FrameType.PUSH, seq: n });
    first.close();

    const again = await rawPeer(transport, mesh);
    again.sendFrames(
      helloFrame("returning", creds.token, { lastSeq: 3, epoch: welcome.epoch }),
      { type: FrameType.ACK, seq: 0 },
      { type: FrameType.ACK, seq: 2 },
      { type: FrameType.ACK, seq: 3 },
      { type: FrameType.HEARTBEAT, interval: 30 },
    );
    expect(await again.nextFrame()).toMatchObject({ type: FrameType.WELCOME, latestSeq: 3 });
    expect(await again.nextFrame()).toEqual({ type: FrameType.HEARTBEAT_ACK, latestSeq: 3 });
    again.sendFrames({ type: FrameType.ACK, seq: 4 });
    const { error } = await errorThenClose(again);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.ACK_OUT_OF_RANGE.code });
  });
}

/**
 * A transport whose send buffer the test fills at will: `full` makes every send report
 * backpressure. `until` waits for the frames sent to satisfy a check, and fails on an ERROR.
 */
function testConnection() {
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  const conn: Connection & { full: boolean; closedWith: number | null } = {
    full: false,
    closedWith: null,
    transport: "tcp" as const,
    remoteAddress: "192.0.2.1",
    send(bytes: Uint8Array) {
      frames.push(decodeFrame(bytes, SERVER_FRAMES, 1 << 20));
      for (const w of [...waiters]) w();
      return !conn.full;
    },
    cork: (send) => send(),
    close(code: number) {
      conn.closedWith = code;
    },
    buffered: () => 0,
  };
  const until = (check: (f: Frame[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; frames: ${JSON.stringify(frames.map((f) => f.type))}`)), 5000);
      const waiter = () => {
        const error = frames.find((f) => f.type === FrameType.ERROR);
        if (error) reject(new Error(`the relay refused a frame: ${JSON.stringify(error)}`));
        if (!check(frames)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
      waiter();
    });
  return { conn, frames, until };
}

test("a seq pushed before a FETCH rewound the stream may be acked while the re-sends wait for the socket", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("rewinder");
  const { conn, frames, until } = testConnection();
  const session = mesh.relay.open(conn);
  session.receive(encodeFrame(helloFrame("rewinder", creds.token)));
  await until((f) => f.some((x) => x.type === FrameType.WELCOME));
  for (let n = 1; n <= 3; n++) await mesh.send("rewinder", { n });
  const pushes = () => frames.filter((f) => f.type === FrameType.PUSH);
  await until(() => pushes().length === 3);

  // The device asks for everything again; the first re-send fills the buffer and the rest wait.
  conn.full = true;
  session.receive(encodeFrame({ type: FrameType.FETCH, afterSeq: 0 }));
  session.receive(encodeFrame({ type: FrameType.HEARTBEAT, interval: 30 }));
  const heartbeatAcks = () => frames.filter((f) => f.type === FrameType.HEARTBEAT_ACK).length;
  await until(() => heartbeatAcks() === 1);
  expect(session.paused).toBe(true);
  expect(pushes()).toHaveLength(4);
  session.receive(encodeFrame({ type: FrameType.ACK, seq: 3 }));

  conn.full = false;
  session.resume();
  session.receive(encodeFrame({ type: FrameType.HEARTBEAT, interval: 30 }));
  await until(() => heartbeatAcks() === 2);
  expect(conn.closedWith).toBeNull();
  expect(pushes().map((f) => (f as { seq: number }).seq)).toEqual([1, 2, 3, 1, 2, 3]);
  session.closed();
});
