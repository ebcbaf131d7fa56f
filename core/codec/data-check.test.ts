import { describe, expect, test } from "bun:test";
import { DataError, decodeFrame, decodeValue, encodeData, encodeFrame, encodePushFrame, encodeTopicPushFrame, MAX_DATA_DEPTH } from "../codec.ts";
import { PushmeshError } from "../errors.ts";
import { FrameType, type PushFrame, SERVER_FRAMES, type TopicPushFrame } from "../protocol.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

function refusal(value: unknown): { rule: string; message: string } | "accepted" {
  try {
    encodeData(value);
    return "accepted";
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return { rule: e.rule, message: e.message };
  }
}

const nestedArrays = (levels: number): unknown => (levels === 0 ? 1 : [nestedArrays(levels - 1)]);
const nestedObjects = (levels: number): unknown => (levels === 0 ? 1 : { a: nestedObjects(levels - 1) });

describe("encodeData refuses what a device could not be given", () => {
  test(`arrays and objects nest at most ${MAX_DATA_DEPTH} levels`, () => {
    expect(MAX_DATA_DEPTH).toBe(32);
    expect(refusal(nestedArrays(32))).toBe("accepted");
    expect(refusal(nestedObjects(32))).toBe("accepted");
    expect(refusal(nestedArrays(33))).toEqual({ rule: "depth", message: `data${"[0]".repeat(32)}: nested deeper than 32 levels` });
    expect(refusal({ a: { b: nestedArrays(31) } })).toEqual({ rule: "depth", message: `data.a.b${"[0]".repeat(30)}: nested deeper than 32 levels` });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(refusal(cycle)).toMatchObject({ rule: "depth" });
  });

  test("values that are not JSON are refused by type, with where they are", () => {
    const cases: [unknown, string][] = [
      [{ f: () => 1 }, "data.f: a function is not a JSON value"],
      [[Symbol("s")], "data[0]: a symbol is not a JSON value"],
      [{ n: 10n }, "data.n: a bigint is not a JSON value"],
      [[1, undefined], "data[1]: undefined inside an array"],
      [[1, , 3], "data[1]: undefined inside an array"],
      [undefined, "data: undefined is not a JSON value"],
      [{ "a b": { when: new Date(0) } }, 'data["a b"].when: a Date is not a JSON value'],
      [{ m: new Map() }, "data.m: a Map is not a JSON value"],
      [{ bytes: new Uint8Array(2) }, "data.bytes: a Uint8Array is not a JSON value"],
      [[new (class Point {})()], "data[0]: a Point is not a JSON value"],
    ];
    for (const [value, message] of cases) expect(refusal(value)).toEqual({ rule: "type", message });
  });

  test("non-finite numbers are refused", () => {
    expect(refusal({ x: Number.NaN })).toEqual({ rule: "number", message: "data.x: NaN is not a JSON number" });
    expect(refusal([Number.POSITIVE_INFINITY])).toEqual({ rule: "number", message: "data[0]: Infinity is not a JSON number" });
    expect(refusal(Number.NEGATIVE_INFINITY)).toEqual({ rule: "number", message: "data: -Infinity is not a JSON number" });
  });

  test("a DataError is a DATA_INVALID (400) that names its rule and path", () => {
    try {
      encodeData({ deep: nestedArrays(40) });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(PushmeshError);
      expect(e).toMatchObject({ code: "DATA_INVALID", status: 400, rule: "depth", details: [{ path: `data.deep${"[0]".repeat(31)}` }] });
    }
  });
});

describe("encodeData writes what JSON.stringify would carry", () => {
  test("properties whose value is undefined are left out, as JSON.stringify leaves them", () => {
    expect(decodeValue(encodeData({ a: undefined, b: 1, c: { d: undefined } }))).toEqual({ b: 1, c: {} });
    expect(hex(encodeData({ a: undefined, b: 1 }))).toBe(hex(encodeData({ b: 1 })));
  });

  test("lone surrogates, which UTF-8 cannot carry, become U+FFFD in values and keys", () => {
    const value = JSON.parse('{"\\ud800k": ["a\\udc00", "\\ud83d\\ude00"]}');
    expect(decodeValue(encodeData(value))).toEqual({ "\ufffdk": ["a\ufffd", "😀"] });
    expect(hex(encodeData("\ud800"))).toBe("63 ef bf bd");
  });

  test("the input is never modified, even where the encoded value differs from it", () => {
    const value = { a: [1, { b: "x\ud800" }], c: undefined };
    const before = JSON.stringify(value);
    encodeData(value);
    expect(JSON.stringify(value)).toBe(before);
    expect(Object.keys(value)).toEqual(["a", "c"]);
  });

  test('a "__proto__" key stays an own key through encodeData and the device\'s decoder', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "b": 2}');
    const bytes = encodePushFrame({ seq: 1, messageId: new Uint8Array(16), priority: 1, data: encodeData(data), sentAt: 1, collapseKey: null });
    const frame = decodeFrame(bytes, SERVER_FRAMES) as PushFrame;
    expect(Object.keys(frame.data as object)).toEqual(["__proto__", "b"]);
    expect(Object.getPrototypeOf(frame.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

test("every frame built from what encodeData accepts decodes with decodeFrame", () => {
  const samples: unknown[] = [
    null, true, 0, -0, 1.5, -(2 ** 53) + 1, 2 ** 53 - 1, 1e308, 5e-324, "", "é日😀", [], {},
    nestedArrays(MAX_DATA_DEPTH), nestedObjects(MAX_DATA_DEPTH),
    { list: Array.from({ length: 300 }, (_, i) => i * 7919 - 1e6), text: "x".repeat(70_000) },
    Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, { v: [i, -i, i / 3] }])),
    JSON.parse('{"__proto__": 1, "constructor": 2, "0": 3}'),
  ];
  for (const value of samples) {
    const data = encodeData(value);
    // What a device gets is the value after a JSON round trip (no -0, no undefined properties).
    const expected = JSON.parse(JSON.stringify(value));
    const push = decodeFrame(encodePushFrame({ seq: 7, messageId: new Uint8Array(16).fill(9), priority: 2, data, sentAt: 2 ** 40, collapseKey: "k" }), SERVER_FRAMES, Number.MAX_SAFE_INTEGER) as PushFrame;
    expect(push.data).toEqual(expected);
    const topic = decodeFrame(encodeTopicPushFrame({ topic: "t", offset: 3, messageId: new Uint8Array(16), priority: 0, data, sentAt: 5 }), SERVER_FRAMES, Number.MAX_SAFE_INTEGER) as TopicPushFrame;
    expect(topic.data).toEqual(expected);
    expect(decodeFrame(encodeFrame({ type: FrameType.PUSH, seq: 1, messageId: new Uint8Array(16), priority: 1, data: value, sentAt: 1, collapseKey: null }), SERVER_FRAMES, Number.MAX_SAFE_INTEGER)).toMatchObject({ data: expected });
  }
});
