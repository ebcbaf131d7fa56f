// Frames that queue up for one device leave together: a replay page, or signals held while the
// socket was busy, is sent inside one cork of the transport (one write on raw TCP, one corked
// batch on WebSocket), not as a socket write per frame.
import { expect, test } from "bun:test";
import { decodeFrame, encodeFrame } from "../../core/codec.ts";
import { type Frame, FrameType, SERVER_FRAMES } from "../../core/protocol.ts";
import type { Connection } from "../../core/relay/session-host.ts";
import { startTestMesh, until } from "../../test-support/harness.ts";
import { helloFrame } from "../../test-support/raw.ts";

/** Records each frame with the cork it was sent in (0: none). */
function recordingConnection() {
  const sent: { frame: Frame; cork: number }[] = [];
  let corks = 0;
  let current = 0;
  const conn: Connection = {
    transport: "tcp",
    remoteAddress: "192.0.2.1",
    send(bytes) {
      sent.push({ frame: decodeFrame(bytes, SERVER_FRAMES, 1 << 20), cork: current });
      return true;
    },
    cork(send) {
      current = ++corks;
      try {
        send();
      } finally {
        current = 0;
      }
    },
    close() {},
    buffered: () => 0,
  };
  return { conn, sent, corks: () => corks };
}

test("a replay of many messages is sent in one cork", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("returning");
  for (let n = 1; n <= 20; n++) await mesh.send("returning", { n });
  const { conn, sent, corks } = recordingConnection();
  const session = mesh.relay.open(conn);
  session.receive(encodeFrame(helloFrame("returning", creds.token)));
  const pushes = () => sent.filter((s) => s.frame.type === FrameType.PUSH);
  await until(() => pushes().length === 20, "20 pushes");
  expect(pushes().map((s) => (s.frame as { seq: number }).seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(corks()).toBe(1);
  expect(new Set(pushes().map((s) => s.cork))).toEqual(new Set([1]));
  session.closed();
});
