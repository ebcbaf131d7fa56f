// Bad bytes, bad frames and bad tokens each get their named code, and the server keeps serving.
import { expect, test } from "bun:test";
import { signDeviceToken } from "../../core/auth.ts";
import { encodeValue, lengthPrefixed } from "../../core/codec.ts";
import { FrameType, PROTOCOL_VERSION, WireError, type WireErrorName } from "../../core/protocol.ts";
import { connectDevice, startTestMesh, type TestMesh } from "../../test-support/harness.ts";
import { frameBytes, rawTcp, rawWs } from "../../test-support/raw.ts";

const hello = (deviceId: string, token: string, extra: Partial<{ version: number; lastSeq: number }> = {}) =>
  frameBytes({
    type: FrameType.HELLO,
    version: extra.version ?? PROTOCOL_VERSION,
    deviceId,
    token,
    lastSeq: extra.lastSeq ?? 0,
    heartbeat: 30,
    epoch: 0,
    topics: {},
  });

async function expectError(peer: Awaited<ReturnType<typeof rawTcp>>, name: WireErrorName) {
  const frame = await peer.nextFrame();
  expect(frame).toMatchObject({ type: FrameType.ERROR, code: WireError[name].code });
  const { code } = await peer.closed;
  // WebSocket peers also see the code as the close code; TCP has none to carry.
  if (code !== null) expect(code).toBe(WireError[name].code);
}

/** After a bad peer, a good device on the same mesh still gets its push. */
async function stillServes(mesh: TestMesh) {
  const creds = await mesh.device(`ok-${crypto.randomUUID()}`);
  await using device = await connectDevice(mesh.tcp, creds, { transport: "tcp" });
  await mesh.send(creds.deviceId, { alive: true });
  await device.waitFor(1);
}

type Case = { name: string; tcp: Uint8Array; ws?: Uint8Array; error: WireErrorName };
const cases: Case[] = [
  { name: "garbage bytes", tcp: lengthPrefixed(new Uint8Array([0xff, 0x00, 0x13, 0x37])), ws: new Uint8Array([0xff, 0x00, 0x13, 0x37]), error: "MALFORMED_FRAME" },
  { name: "a truncated CBOR value", tcp: lengthPrefixed(new Uint8Array([0x83, 0x01, 0x02])), ws: new Uint8Array([0x83, 0x01, 0x02]), error: "MALFORMED_FRAME" },
  // Not well-formed although a lenient decoder reads a value from them (docs/protocol.md §4.1).
  { name: "a lone CBOR break byte", tcp: lengthPrefixed(new Uint8Array([0xff])), ws: new Uint8Array([0xff]), error: "MALFORMED_FRAME" },
  { name: "a break inside a definite-length array", tcp: lengthPrefixed(new Uint8Array([0x82, 0x04, 0xff])), ws: new Uint8Array([0x82, 0x04, 0xff]), error: "MALFORMED_FRAME" },
  // 5 GiB announced in the length prefix: refused before any body arrives.
  { name: "an oversized length prefix", tcp: new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x14]), error: "FRAME_TOO_LARGE" },
  { name: "a length just over the frame limit", tcp: new Uint8Array([0x81, 0x80, 0x04]), error: "FRAME_TOO_LARGE" },
  { name: "a valid CBOR map instead of an array", tcp: lengthPrefixed(encodeValue({ type: 1 })), ws: encodeValue({ type: 1 }), error: "INVALID_FRAME" },
  { name: "a HELLO with a numeric token", tcp: lengthPrefixed(encodeValue([1, 1, "dev", 42, 0, 30])), ws: encodeValue([1, 1, "dev", 42, 0, 30]), error: "INVALID_FRAME" },
  { name: "a HELLO with too many fields", tcp: lengthPrefixed(encodeValue([1, 1, "d", "t", 0, 30, 0, 9])), ws: encodeValue([1, 1, "d", "t", 0, 30, 0, 9]), error: "INVALID_FRAME" },
  { name: "a server-only frame type", tcp: lengthPrefixed(encodeValue([3, 1])), ws: encodeValue([3, 1]), error: "UNKNOWN_FRAME_TYPE" },
  { name: "an ACK before HELLO", tcp: lengthPrefixed(encodeValue([4, 1])), ws: encodeValue([4, 1]), error: "HELLO_REQUIRED" },
  { name: "a zero-length frame", tcp: new Uint8Array([0x00]), error: "MALFORMED_FRAME" },
];

for (const c of cases) {
  test(`tcp: ${c.name} gets ${c.error}`, async () => {
    await using mesh = await startTestMesh();
    const peer = await rawTcp(mesh.tcp);
    peer.send(c.tcp);
    await expectError(peer, c.error);
    await stillServes(mesh);
  });
  if (c.ws) {
    const bytes = c.ws;
    test(`ws: ${c.name} gets ${c.error}`, async () => {
      await using mesh = await startTestMesh();
      const peer = await rawWs(mesh.ws);
      peer.send(bytes);
      await expectError(peer, c.error);
      await stillServes(mesh);
    });
  }
}

test("ws: a text message gets TEXT_NOT_ACCEPTED", async () => {
  await using mesh = await startTestMesh();
  const ws = new WebSocket(mesh.ws);
  const { promise, resolve } = Promise.withResolvers<number>();
  ws.onopen = () => ws.send("hello");
  ws.onclose = (ev) => resolve(ev.code);
  expect(await promise).toBe(WireError.TEXT_NOT_ACCEPTED.code);
});

test("ws: a frame over the size limit gets FRAME_TOO_LARGE", async () => {
  await using mesh = await startTestMesh({ maxFrameBytes: 2048, maxPayloadBytes: 1024 });
  const peer = await rawWs(mesh.ws);
  peer.send(new Uint8Array(4096));
  await expectError(peer, "FRAME_TOO_LARGE");
});

test("a frame split across many TCP writes is reassembled", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("split");
  const peer = await rawTcp(mesh.tcp);
  const bytes = lengthPrefixed(hello(creds.deviceId, creds.token));
  for (const byte of bytes) {
    peer.send(new Uint8Array([byte]));
    await Bun.sleep(1);
  }
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  peer.close();
});

test("a forged token gets TOKEN_INVALID; the server keeps serving", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("victim");
  const forged = `${creds.token.split(".")[0]}.${"A".repeat(43)}`;
  // The signature's first character changed: it carries six data bits (the last one carries padding).
  const [body, sig] = creds.token.split(".") as [string, string];
  const tampered = `${body}.${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
  for (const token of [forged, "not-a-token", "a.b.c", tampered]) {
    const peer = await rawTcp(mesh.tcp);
    peer.send(lengthPrefixed(hello("victim", token)));
    await expectError(peer, "TOKEN_INVALID");
  }
  await stillServes(mesh);
});

test("a token for another device gets TOKEN_INVALID", async () => {
  await using mesh = await startTestMesh();
  const a = await mesh.device("a");
  await mesh.device("b");
  const peer = await rawWs(mesh.ws);
  peer.send(hello("b", a.token));
  await expectError(peer, "TOKEN_INVALID");
});

test("an expired token gets TOKEN_EXPIRED", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("old");
  const secret = (await mesh.store.appSecret(mesh.appId))!;
  const token = await signDeviceToken(secret, { appId: mesh.appId, deviceId: "old", expiresAt: Date.now() - 1000 });
  const peer = await rawWs(mesh.ws);
  peer.send(hello("old", token));
  await expectError(peer, "TOKEN_EXPIRED");
});

test("a valid token for a device that is not in the store gets DEVICE_UNKNOWN", async () => {
  await using mesh = await startTestMesh();
  const secret = (await mesh.store.appSecret(mesh.appId))!;
  const token = await signDeviceToken(secret, { appId: mesh.appId, deviceId: "ghost", expiresAt: Date.now() + 60_000 });
  const peer = await rawTcp(mesh.tcp);
  peer.send(lengthPrefixed(hello("ghost", token)));
  await expectError(peer, "DEVICE_UNKNOWN");
});

test("an unsupported protocol version gets UNSUPPORTED_VERSION", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("future");
  const peer = await rawWs(mesh.ws);
  peer.send(hello("future", creds.token, { version: 99 }));
  await expectError(peer, "UNSUPPORTED_VERSION");
});

test("an ACK above the highest pushed sequence gets ACK_OUT_OF_RANGE", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("acker");
  const peer = await rawWs(mesh.ws);
  peer.send(hello("acker", creds.token));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  peer.send(frameBytes({ type: FrameType.ACK, seq: 5 }));
  await expectError(peer, "ACK_OUT_OF_RANGE");
  // The bogus ack marked nothing delivered.
  const { messageId } = await mesh.send("acker", { after: true });
  expect((await mesh.api("GET", `/v1/messages/${messageId}`)).body.states.pending).toBe(1);
});

test("the SDK reports a fatal token error and stops reconnecting", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("stale");
  await using device = await connectDevice(mesh.ws, { deviceId: "stale", token: "bogus.token" });
  const error = await device.waitForEvent("error");
  expect(error).toMatchObject({ type: "error", code: "TOKEN_INVALID" });
  await device.waitForEvent("disconnected");
  await Bun.sleep(300);
  expect(device.events.filter((e) => e.type === "disconnected").length).toBe(1);
});
