import { expect, test } from "bun:test";
import { bytesToUuid, FrameType, uuidToBytes, validateFrame, DEVICE_FRAMES, WireError, WIRE_ERROR_NAMES } from "./protocol.ts";

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
