// What the relay's WebSocket layer negotiates and answers, as docs/protocol.md §3.1 states it: no
// permessage-deflate, no pings of its own, pongs for a client's pings, and only protocol frames
// count as activity for the heartbeat deadline.
import { expect, test } from "bun:test";
import { FrameType, WireError } from "../../core/protocol.ts";
import { startTestMesh } from "../../test-support/harness.ts";
import { helloFrame, rawWsOverTcp } from "../../test-support/raw.ts";

test("permessage-deflate offered by the client is not negotiated; frames arrive uncompressed", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("squeezer");
  const peer = await rawWsOverTcp(mesh.ws, { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" });
  expect(peer.response.has("sec-websocket-extensions")).toBe(false);
  peer.sendFrames(helloFrame("squeezer", creds.token));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  await mesh.send("squeezer", { text: "a".repeat(2000) });
  expect(await peer.nextFrame()).toMatchObject({ type: FrameType.PUSH, data: { text: "a".repeat(2000) } });
  peer.close();
});

test("WebSocket pings are answered with pongs but do not hold off the heartbeat deadline; the relay sends none", async () => {
  await using mesh = await startTestMesh({ heartbeat: { min: 1, default: 30, max: 600 } });
  const creds = await mesh.device("pinger");
  const peer = await rawWsOverTcp(mesh.ws);
  peer.sendFrames(helloFrame("pinger", creds.token, { heartbeat: 1 }));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  let open = true;
  void peer.closed.then(() => {
    open = false;
  });
  // Pings four times a second, for longer than the 2.5 s deadline a 1 s heartbeat gives.
  while (open) {
    peer.ping();
    await Promise.race([Bun.sleep(250), peer.closed]);
  }
  expect((await peer.closed).code).toBe(WireError.HEARTBEAT_TIMEOUT.code);
  expect(peer.frames.at(-1)).toMatchObject({ type: FrameType.ERROR, code: WireError.HEARTBEAT_TIMEOUT.code });
  expect(peer.pongs).toBeGreaterThan(3);
  expect(peer.pings).toBe(0);
});
