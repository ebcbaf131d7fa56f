// A connection's frames are handled one at a time, in arrival order: a device may pipeline frames
// behind HELLO, a refused frame is answered in its turn, and only a first frame that passes every
// check but is not HELLO gets HELLO_REQUIRED. Both transports, raw frames.
import { expect, test } from "bun:test";
import { FrameType, WireError, type WireErrorName } from "../../core/protocol.ts";
import { startTestMesh } from "../../test-support/harness.ts";
import { errorThenClose, helloFrame, rawPeer, TRANSPORTS } from "../../test-support/raw.ts";

/** First frames that fail a check: the check decides the code, not "HELLO first". */
const badFirstFrames: { name: string; value: unknown[]; error: WireErrorName }[] = [
  { name: "an ACK with a text seq", value: [FrameType.ACK, "1"], error: "INVALID_FRAME" },
  { name: "an ACK with two fields", value: [FrameType.ACK, 1, 2], error: "INVALID_FRAME" },
  { name: "a SUBSCRIBE with a bad topic name", value: [FrameType.SUBSCRIBE, "no spaces", null], error: "TOPIC_INVALID" },
  { name: "a HELLO whose topics hold a bad name", value: [FrameType.HELLO, 1, "d", "t", 0, 30, 0, { "a b": 1 }], error: "TOPIC_INVALID" },
  { name: "a server frame type", value: [FrameType.WELCOME, "s", "n", 0, 30, 5, 600, 1], error: "UNKNOWN_FRAME_TYPE" },
  { name: "an unknown frame type", value: [99], error: "UNKNOWN_FRAME_TYPE" },
  { name: "a valid ACK", value: [FrameType.ACK, 1], error: "HELLO_REQUIRED" },
  { name: "a valid SUBSCRIBE", value: [FrameType.SUBSCRIBE, "news", null], error: "HELLO_REQUIRED" },
];

for (const transport of TRANSPORTS) {
  test(`${transport}: before HELLO, every frame check comes first, then HELLO_REQUIRED`, async () => {
    await using mesh = await startTestMesh();
    for (const { name, value, error } of badFirstFrames) {
      const peer = await rawPeer(transport, mesh);
      peer.sendFrames(value);
      const { error: frame, closeCode } = await errorThenClose(peer);
      expect({ name, frame }).toMatchObject({ name, frame: { type: FrameType.ERROR, code: WireError[error].code } });
      if (transport === "ws") expect({ name, closeCode }).toEqual({ name, closeCode: WireError[error].code });
    }
  });

  test(`${transport}: frames pipelined behind HELLO are handled after WELCOME, in order`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device("eager");
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames(
      helloFrame("eager", creds.token),
      { type: FrameType.SUBSCRIBE, topic: "news", lastOffset: null },
      { type: FrameType.HEARTBEAT, interval: 30 },
      { type: FrameType.UNSUBSCRIBE, topic: "news" },
      { type: FrameType.SUBSCRIBE, topic: "news", lastOffset: null },
    );
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    expect(await peer.nextFrame()).toEqual({ type: FrameType.SUBSCRIBED, topic: "news", startOffset: 0 });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.HEARTBEAT_ACK, latestSeq: 0 });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.UNSUBSCRIBED, topic: "news" });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.SUBSCRIBED, topic: "news", startOffset: 0 });
    // Handled in order, the last word is the second SUBSCRIBE's.
    expect((await mesh.api("GET", "/v1/topics/news")).body.subscribers).toBe(1);
    peer.close();
  });

  test(`${transport}: a frame refused behind HELLO is answered in its turn, after WELCOME`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device("sloppy");
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames(helloFrame("sloppy", creds.token), [FrameType.HEARTBEAT, "soon"], { type: FrameType.HEARTBEAT, interval: 30 });
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    const { error, closeCode } = await errorThenClose(peer);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.INVALID_FRAME.code });
    if (transport === "ws") expect(closeCode).toBe(WireError.INVALID_FRAME.code);
    // The HEARTBEAT behind the refused frame was never handled.
    expect(peer.frames.map((f) => f.type)).toEqual([FrameType.WELCOME, FrameType.ERROR]);
  });

  test(`${transport}: a flood of frames before HELLO is answered gets FRAME_QUEUE_FULL`, async () => {
    // Soft capacity 1 and a second connection open: WELCOME waits 500 ms while the flood arrives.
    await using mesh = await startTestMesh({ capacity: 40, softCapacity: 1, softDelayMs: 500 });
    const creds = await mesh.device("flood");
    const bystander = await rawPeer(transport, mesh);
    const peer = await rawPeer(transport, mesh);
    const heartbeats = Array.from({ length: 600 }, () => ({ type: FrameType.HEARTBEAT, interval: 30 }) as const);
    peer.sendFrames(helloFrame("flood", creds.token), ...heartbeats);
    const { error, closeCode } = await errorThenClose(peer);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.FRAME_QUEUE_FULL.code });
    if (transport === "ws") expect(closeCode).toBe(WireError.FRAME_QUEUE_FULL.code);
    expect(peer.frames).toHaveLength(1);
    bystander.close();
  });

  test(`${transport}: ACKs waiting behind a slow frame count as one, so acking a long replay never floods`, async () => {
    await using mesh = await startTestMesh({ capacity: 40, softCapacity: 1, softDelayMs: 500 });
    const creds = await mesh.device("acker");
    const bystander = await rawPeer(transport, mesh);
    const peer = await rawPeer(transport, mesh);
    const acks = Array.from({ length: 600 }, () => ({ type: FrameType.ACK, seq: 0 }) as const);
    peer.sendFrames(helloFrame("acker", creds.token), ...acks, { type: FrameType.HEARTBEAT, interval: 30 });
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    expect(await peer.nextFrame()).toEqual({ type: FrameType.HEARTBEAT_ACK, latestSeq: 0 });
    peer.close();
    bystander.close();
  });
}
