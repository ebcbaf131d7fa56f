import { describe, expect, test } from "bun:test";
import { decodeFrame, decodeValue, encodeData, encodeFrame, encodeTcpFrame, encodeValue, TcpFrameReader, varintLength } from "./codec.ts";
import { DEVICE_FRAMES, type Frame, FrameError, FrameType, SERVER_FRAMES, uuidToBytes } from "./protocol.ts";

const ALL = new Set([...DEVICE_FRAMES, ...SERVER_FRAMES]);

const samples: Frame[] = [
  { type: FrameType.HELLO, version: 1, deviceId: "phone-1", token: "t.k", lastSeq: 41, heartbeat: 30, epoch: 7, topics: { news: 3 } },
  { type: FrameType.WELCOME, sessionId: "s_1", nodeId: "relay-1", latestSeq: 42, heartbeat: 30, heartbeatMin: 5, heartbeatMax: 600, epoch: 7 },
  { type: FrameType.PUSH, seq: 42, messageId: uuidToBytes("01a1fd51-52ed-7120-8fe2-c5ba692d6d32"), priority: 1, data: { title: "hi", n: [1, 2] }, sentAt: 1_790_000_000_000, collapseKey: null },
  { type: FrameType.PUSH, seq: 43, messageId: new Uint8Array(16), priority: 0, data: null, sentAt: 1, collapseKey: "score" },
  { type: FrameType.ACK, seq: 42 },
  { type: FrameType.HEARTBEAT, interval: 300 },
  { type: FrameType.HEARTBEAT_ACK, latestSeq: 43 },
  { type: FrameType.FETCH, afterSeq: 40 },
  { type: FrameType.GOAWAY, reason: 4040, alternatives: [["relay-2", "ws://b:1", "b:2"]], retryAfterMs: 0 },
  { type: FrameType.ERROR, code: 4010, message: "token is for another device" },
];

describe("frames round-trip", () => {
  for (const frame of samples) {
    test(`type ${frame.type}`, () => {
      const decoded = decodeFrame(encodeFrame(frame), ALL);
      expect(decoded).toEqual(frame);
    });
  }
});

test("a heartbeat on TCP is at most 8 bytes for every allowed interval", () => {
  for (const interval of [1, 23, 24, 255, 256, 600, 65535]) {
    expect(encodeTcpFrame({ type: FrameType.HEARTBEAT, interval }).length).toBeLessThanOrEqual(8);
  }
  expect([...encodeTcpFrame({ type: FrameType.HEARTBEAT, interval: 30 })]).toEqual([0x04, 0x82, 0x05, 0x18, 0x1e]);
});

test("PUSH leaves out a null collapse key", () => {
  const bytes = encodeFrame(samples[2]!);
  expect(bytes[0]).toBe(0x86); // array of 6: type + 5 fields
});

test("decodeFrame names what is wrong", () => {
  const code = (bytes: Uint8Array, accept = DEVICE_FRAMES, max?: number) => {
    try {
      decodeFrame(bytes, accept, max);
      return "ok";
    } catch (e) {
      return (e as FrameError).code;
    }
  };
  expect(code(new Uint8Array([]))).toBe("MALFORMED_FRAME");
  expect(code(new Uint8Array([0x82, 0x04]))).toBe("MALFORMED_FRAME");
  expect(code(new Uint8Array([0x82, 0x04, 0x01, 0x01]))).toBe("MALFORMED_FRAME"); // trailing bytes
  expect(code(new Uint8Array([0xff]))).toBe("MALFORMED_FRAME"); // a lone break: not well-formed
  expect(code(new Uint8Array([0x82, 0x04, 0x01]), DEVICE_FRAMES, 2)).toBe("FRAME_TOO_LARGE");
  expect(code(encodeFrame(samples[4]!))).toBe("ok");
  expect(code(encodeFrame({ type: FrameType.ACK, seq: -1 } as Frame))).toBe("INVALID_FRAME");
  expect(code(encodeFrame({ type: FrameType.ACK, seq: 1.5 } as Frame))).toBe("INVALID_FRAME");
  expect(code(encodeFrame(samples[6]!))).toBe("UNKNOWN_FRAME_TYPE"); // HEARTBEAT_ACK from a device
  expect(code(new Uint8Array([0x81, 0x63, 0x61, 0x62, 0x63]))).toBe("UNKNOWN_FRAME_TYPE"); // ["abc"]
  expect(code(new Uint8Array([0x80]))).toBe("INVALID_FRAME"); // []
});

describe("TcpFrameReader", () => {
  test("splits frames that arrive together and reassembles one split byte by byte", () => {
    const a = encodeTcpFrame(samples[4]!);
    const b = encodeTcpFrame(samples[0]!);
    const reader = new TcpFrameReader();
    const joined = new Uint8Array([...a, ...b]);
    expect(reader.push(joined).map((f) => decodeFrame(f, ALL))).toEqual([samples[4]!, samples[0]!]);
    const out: Uint8Array[] = [];
    for (const byte of b) out.push(...reader.push(new Uint8Array([byte])));
    expect(out.map((f) => decodeFrame(f, ALL))).toEqual([samples[0]!]);
    expect(reader.partialBytes).toBe(0);
  });

  test("a long frame uses a multi-byte length and still decodes", () => {
    const frame: Frame = { ...(samples[2] as Extract<Frame, { type: 3 }>), data: "x".repeat(40_000) };
    const bytes = encodeTcpFrame(frame);
    const body = encodeFrame(frame).length;
    expect(bytes.length - body).toBe(varintLength(body));
    expect(varintLength(body)).toBe(3);
    expect(new TcpFrameReader().push(bytes).map((f) => decodeFrame(f, ALL))).toEqual([frame]);
  });

  test("refuses a length over the maximum before its body arrives", () => {
    const reader = new TcpFrameReader(1000);
    expect(() => reader.push(new Uint8Array([0xe9, 0x07]))).toThrow(FrameError); // 1001
    expect(() => new TcpFrameReader().push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow("longer than 4 bytes");
  });
});

describe("the encoder writes standard CBOR any decoder reads back", () => {
  const values: unknown[] = [
    0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER,
    -1, -24, -25, -256, -257, -(2 ** 32), Number.MIN_SAFE_INTEGER,
    0.5, -1.25, 1e300, Number.NaN, Number.POSITIVE_INFINITY,
    "", "a", "x".repeat(23), "x".repeat(24), "x".repeat(300), "héllo wörld", "日本語", "emoji 🎉", "\u0000",
    true, false, null,
    [], [1, [2, [3, []]]], {}, { a: 1, b: { c: [1, "d", null] } }, { "": 0, "ünï": "côdé" },
    new Uint8Array([]), new Uint8Array([0, 255, 7]),
    Array.from({ length: 300 }, (_, i) => i),
    Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
  ];
  for (const value of values) {
    test(JSON.stringify(value)?.slice(0, 40) ?? String(value), () => {
      const decoded = decodeValue(encodeValue(value));
      if (typeof value === "number" && Number.isNaN(value)) expect(Number.isNaN(decoded)).toBe(true);
      else expect(decoded).toEqual(value);
    });
  }

  test("integers take their shortest head", () => {
    expect([...encodeValue(23)]).toEqual([0x17]);
    expect([...encodeValue(24)]).toEqual([0x18, 24]);
    expect([...encodeValue(-1)]).toEqual([0x20]);
    expect([...encodeValue(2 ** 32 - 1)]).toEqual([0x1a, 0xff, 0xff, 0xff, 0xff]);
    expect([...encodeValue(-(2 ** 32))]).toEqual([0x3a, 0xff, 0xff, 0xff, 0xff]);
    expect([...encodeValue({ a: 1 })]).toEqual([0xa1, 0x61, 0x61, 0x01]);
  });

  test("a whole number of 2^32 or more inside data is a float64, while the frame's own uint fields stay integers", () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
    const frame: Frame = { type: FrameType.PUSH, seq: 2 ** 32, messageId: new Uint8Array(16), priority: 1, data: [2 ** 32, -(2 ** 32) - 1, 2 ** 32 - 1, -(2 ** 32)], sentAt: 2 ** 40, collapseKey: null };
    const id = " 00".repeat(16);
    expect(hex(encodeFrame(frame))).toBe(
      `86 03 1b 00 00 00 01 00 00 00 00 50${id} 01 84 fb 41 f0 00 00 00 00 00 00 fb c1 f0 00 00 00 10 00 00 1a ff ff ff ff 3a ff ff ff ff 1b 00 00 01 00 00 00 00 00`,
    );
    expect(decodeFrame(encodeFrame(frame), ALL)).toEqual(frame);
  });

  test("a key named __proto__ stays a plain key", () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}');
    const decoded = decodeValue(encodeValue(value)) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
  });
});

test("encodeFrame writes data encodeData would refuse as cbor-x writes it, for tests and raw clients", () => {
  const deep = JSON.parse(`${"[".repeat(40)}1${"]".repeat(40)}`);
  for (const data of [{ bytes: new Uint8Array([1, 2]) }, deep, [1, undefined]]) {
    const frame: Frame = { type: FrameType.PUSH, seq: 1, messageId: new Uint8Array(16), priority: 1, data, sentAt: 1, collapseKey: null };
    expect(decodeFrame(encodeFrame(frame), ALL)).toEqual(frame);
  }
  // What encodeData takes is written exactly as it writes it: the bytes the relay splices in.
  const data = { a: "\ud800", b: undefined };
  const bytes = encodeFrame({ type: FrameType.TOPIC_PUSH, topic: "t", offset: 1, messageId: new Uint8Array(16), priority: 1, data, sentAt: 1 });
  expect(Buffer.from(bytes).includes(Buffer.from(encodeData(data)))).toBe(true);
});
