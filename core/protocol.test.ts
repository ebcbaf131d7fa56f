import { expect, test } from "bun:test";
import {
  bytesToUuid,
  DEVICE_FRAMES,
  type FrameError,
  frameToArray,
  FrameType,
  SERVER_FRAMES,
  uuidToBytes,
  validateFrame,
  WIRE_ERROR_NAMES,
  WireError,
} from "./protocol.ts";

test("every wire error code is unique, in the application close-code range, and has a reason", () => {
  const codes = Object.values(WireError).map((e) => e.code);
  expect(new Set(codes).size).toBe(codes.length);
  for (const [name, { code, reason }] of Object.entries(WireError)) {
    expect(code).toBeGreaterThanOrEqual(4000);
    expect(code).toBeLessThanOrEqual(4999);
    expect(reason.length).toBeGreaterThan(10);
    expect(WIRE_ERROR_NAMES.get(code)).toBe(name as keyof typeof WireError);
  }
});

test("HELLO without its optional epoch reads epoch 0", () => {
  expect(validateFrame([1, 1, "d", "t", 3, 30], DEVICE_FRAMES)).toEqual({
    type: FrameType.HELLO,
    version: 1,
    deviceId: "d",
    token: "t",
    lastSeq: 3,
    heartbeat: 30,
    epoch: 0,
    topics: {},
  });
});

test("oversized strings are refused", () => {
  expect(() => validateFrame([1, 1, "d".repeat(257), "t", 0, 30], DEVICE_FRAMES)).toThrow("deviceId");
  expect(() => validateFrame([1, 1, "", "t", 0, 30], DEVICE_FRAMES)).toThrow("deviceId");
  expect(() => validateFrame([1, 1, "d", "t".repeat(2049), 0, 30], DEVICE_FRAMES)).toThrow("token");
});

test("UUIDs survive the 16-byte wire form", () => {
  const id = "01a1fd51-52ed-7120-8fe2-c5ba692d6d32";
  expect(uuidToBytes(id)).toHaveLength(16);
  expect(bytesToUuid(uuidToBytes(id))).toBe(id);
  expect(() => uuidToBytes("nope")).toThrow();
});

test("SUBSCRIBED and UNSUBSCRIBED are server frames that survive their array form", () => {
  const subscribed = { type: FrameType.SUBSCRIBED, topic: "match-7", startOffset: 12 } as const;
  const unsubscribed = { type: FrameType.UNSUBSCRIBED, topic: "match-7" } as const;
  expect(validateFrame(frameToArray(subscribed), SERVER_FRAMES)).toEqual(subscribed);
  expect(validateFrame(frameToArray(unsubscribed), SERVER_FRAMES)).toEqual(unsubscribed);
  expect(() => validateFrame([FrameType.SUBSCRIBED, "match-7"], SERVER_FRAMES)).toThrow("takes 2..2 fields");
  expect(() => validateFrame([FrameType.SUBSCRIBED, "match-7", 1], DEVICE_FRAMES)).toThrow("not accepted");
});

const codeOf = (value: unknown[], accept = DEVICE_FRAMES) => {
  try {
    validateFrame(value, accept);
    return "valid";
  } catch (error) {
    return (error as FrameError).code;
  }
};

test("a text string that is no topic name is TOPIC_INVALID wherever it stands; any other type is INVALID_FRAME", () => {
  expect(codeOf([FrameType.SUBSCRIBE, "a b", null])).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.SUBSCRIBE, "", null])).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.UNSUBSCRIBE, "t".repeat(129)])).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.SUBSCRIBED, "a/b", 1], SERVER_FRAMES)).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.HELLO, 1, "d", "t", 0, 30, 0, { ok: 1, "a b": 2 }])).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.SUBSCRIBE, 7, null])).toBe("INVALID_FRAME");
  expect(codeOf([FrameType.SUBSCRIBE, new Uint8Array([0x61]), null])).toBe("INVALID_FRAME");
  // Fields in order: the topic (field 0) decides before a bad lastOffset (field 1).
  expect(codeOf([FrameType.SUBSCRIBE, "a b", "x"])).toBe("TOPIC_INVALID");
  expect(codeOf([FrameType.SUBSCRIBE, "ok", "x"])).toBe("INVALID_FRAME");
});

test("HELLO.topics: its shape and values are checked before its names", () => {
  const hello = (topics: unknown) => [FrameType.HELLO, 1, "d", "t", 0, 30, 0, topics];
  expect(codeOf(hello({ "a b": -1 }))).toBe("INVALID_FRAME");
  expect(codeOf(hello({ "a b": 1, ok: "x" }))).toBe("INVALID_FRAME");
  expect(codeOf(hello(Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`t${i}`, 1]))))).toBe("INVALID_FRAME");
  expect(codeOf(hello(["news"]))).toBe("INVALID_FRAME");
  expect(codeOf(hello({ "a b": 1 }))).toBe("TOPIC_INVALID");
  expect(codeOf(hello({ news: 3 }))).toBe("valid");
});
