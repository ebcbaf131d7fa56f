// The hand-written PUSH / TOPIC_PUSH writer and reader against cbor-x, the codec of record: the
// writer's bytes are what cbor-x writes for the same frame, and the reader gives what the cbor-x
// path gives or leaves the bytes to it. Seeded, so a failure prints a seed and an index to replay.
import { describe, expect, test } from "bun:test";
import { decodeFrame, decodeValue, encodeData, encodePushFrame, encodeTopicPushFrame, encodeValue } from "../codec.ts";
import { DEVICE_FRAMES, type Frame, FrameError, FrameType, type PriorityCode, SERVER_FRAMES, validateFrame } from "../protocol.ts";
import { readPushFrame } from "./push-frame-reader.ts";
import { type PushFields, type TopicPushFields } from "./push-frame-writer.ts";

const SEED = 0x5eed_cb05;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The first difference between two decoded values, stricter than toEqual: -0, key order, own __proto__, byte-string class. */
function diff(a: unknown, b: unknown, path = "$"): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== "object" || a === null || b === null) return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  const x = a as Record<string | symbol, unknown>;
  const y = b as Record<string | symbol, unknown>;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: prototype ${x.constructor?.name} vs ${y.constructor?.name}`;
  if (x instanceof Uint8Array && y instanceof Uint8Array) return hex(x) === hex(y) ? undefined : `${path}: bytes differ`;
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      const d = !(i in x) || !(i in y) ? `${path}[${i}]: hole` : diff(x[i], y[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const kx = Reflect.ownKeys(x);
  const ky = Reflect.ownKeys(y);
  if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) return `${path}: keys [${kx.map(String)}] vs [${ky.map(String)}]`;
  for (const k of kx) {
    const dx = Object.getOwnPropertyDescriptor(x, k)!;
    const dy = Object.getOwnPropertyDescriptor(y, k)!;
    if (dx.enumerable !== dy.enumerable || dx.writable !== dy.writable || "get" in dx !== "get" in dy) return `${path}.${String(k)}: attributes differ`;
    const d = diff(dx.value, dy.value, `${path}.${String(k)}`);
    if (d) return d;
  }
  return undefined;
}

type Outcome = { frame: Frame } | { error: string };

/** The cbor-x path alone, as decodeFrame takes it when the fast reader leaves the bytes. */
function viaCborX(bytes: Uint8Array, accept: ReadonlySet<number>): Outcome {
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch {
    return { error: "MALFORMED_FRAME" };
  }
  try {
    return { frame: validateFrame(value, accept) };
  } catch (e) {
    return { error: (e as FrameError).code };
  }
}

/** decodeFrame and the cbor-x path agree on `bytes`; returns whether the fast reader answered. */
function agree(bytes: Uint8Array, accept: ReadonlySet<number>, where: string): "fast" | "left" {
  const fast = readPushFrame(bytes, accept);
  const reference = viaCborX(bytes, accept);
  let outcome: Outcome;
  try {
    outcome = { frame: decodeFrame(bytes, accept, Number.MAX_SAFE_INTEGER) };
  } catch (e) {
    if (!(e instanceof FrameError)) throw new Error(`${where}: decodeFrame threw ${String(e)}; bytes ${hex(bytes)}`);
    outcome = { error: e.code };
  }
  const d = "frame" in outcome && "frame" in reference ? diff(outcome.frame, reference.frame) : "error" in outcome && "error" in reference && outcome.error === reference.error ? undefined : `${JSON.stringify(outcome)} vs ${JSON.stringify(reference)}`;
  if (d) throw new Error(`${where}: decodeFrame differs from cbor-x at ${d}; bytes ${hex(bytes)}`);
  return fast === undefined ? "left" : "fast";
}

const INT_EDGES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
const INTS = INT_EDGES.flatMap((n) => [n, -n, -n - 1]).filter((n) => Number.isSafeInteger(n));
const FLOATS = [0.5, -1.25, 1.1, 1e300, -1e-300, 5e-324, -0, 2 ** 53, 2 ** 64, -(2 ** 63)];
const KEYS = ["", "a", "title", "__proto__", "constructor", "1", "01", "-1", "4294967295", "é", "日本", "k".repeat(32), "k".repeat(33)];

function randomString(rand: () => number, lone = true): string {
  const length = [0, 1, 5, 16, 23, 24, 31, 32, 33, 100][Math.floor(rand() * 10)]!;
  const kind = rand();
  let s = "";
  for (let i = 0; i < length; i++) {
    if (kind < 0.6) s += String.fromCharCode(32 + Math.floor(rand() * 95));
    else if (kind < 0.7) s += String.fromCharCode(Math.floor(rand() * 128));
    else if (kind < 0.75 && lone) s += String.fromCharCode(0xd800 + Math.floor(rand() * 0x800));
    else {
      const r = rand();
      const cp = r < 0.4 ? 0x80 + Math.floor(rand() * 0x780) : r < 0.8 ? 0x800 + Math.floor(rand() * 0xd000) : 0x10000 + Math.floor(rand() * 0xfffff);
      s += String.fromCodePoint(cp >= 0xd800 && cp < 0xe000 ? 0xe000 : cp);
    }
  }
  return s;
}

/** A random JSON value, as a sender posts it. */
function randomJson(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth >= 6 || r < (depth === 0 ? 0.2 : 0.6)) {
    const k = rand();
    if (k < 0.3) return INTS[Math.floor(rand() * INTS.length)]!;
    if (k < 0.4) return Math.floor((rand() - 0.5) * 2 ** (1 + Math.floor(rand() * 53)));
    if (k < 0.5) return FLOATS[Math.floor(rand() * FLOATS.length)]!;
    if (k < 0.8) return randomString(rand);
    return [true, false, null][Math.floor(rand() * 3)];
  }
  const size = rand() < 0.05 ? 24 + Math.floor(rand() * 300) : Math.floor(rand() * 6);
  if (r < 0.75) return Array.from({ length: size }, () => randomJson(rand, size > 20 ? 6 : depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = rand() < 0.6 ? KEYS[Math.floor(rand() * KEYS.length)]! : randomString(rand);
    Object.defineProperty(o, key, { value: randomJson(rand, size > 20 ? 6 : depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

function randomUint(rand: () => number): number {
  return [Math.floor(rand() * 24), Math.floor(rand() * 256), Math.floor(rand() * 65536), Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 53)][Math.floor(rand() * 5)]!;
}

function randomFields(rand: () => number, data: Uint8Array): PushFields & TopicPushFields {
  const key = rand();
  return {
    seq: randomUint(rand),
    offset: randomUint(rand),
    topic: Array.from({ length: 1 + Math.floor(rand() * 128) }, () => "Az09._:-"[Math.floor(rand() * 8)]).join(""),
    messageId: Uint8Array.from({ length: 16 }, () => Math.floor(rand() * 256)),
    priority: Math.floor(rand() * 3) as PriorityCode,
    data,
    sentAt: randomUint(rand),
    collapseKey: key < 0.4 ? null : randomString(rand, false).slice(0, 256),
  };
}

/** A uint field as cbor-x writes it as one: 2^32 or more only as a BigInt (docs/protocol.md §4.2). */
const uint = (n: number) => (n >= 2 ** 32 ? BigInt(n) : n);
const asCborX = (...fields: unknown[]) => encodeValue(fields);

describe("the envelope writer", () => {
  test("writes, for thousands of random frames, exactly the bytes cbor-x writes for them", () => {
    const rand = prng(SEED);
    for (let i = 0; i < 2000; i++) {
      const value = randomJson(rand, 0);
      const f = randomFields(rand, encodeData(value));
      const data = decodeValue(f.data);
      const push = encodePushFrame(f);
      const fields = [3, uint(f.seq), f.messageId, f.priority, data, uint(f.sentAt)];
      const expected = asCborX(...fields, ...(f.collapseKey === null ? [] : [f.collapseKey]));
      expect(`${i}: ${hex(push)}`).toBe(`${i}: ${hex(expected)}`);
      const topic = encodeTopicPushFrame(f);
      expect(`${i}: ${hex(topic)}`).toBe(`${i}: ${hex(asCborX(12, f.topic, uint(f.offset), f.messageId, f.priority, data, uint(f.sentAt)))}`);
      // cbor-x alone reads both back as the frames they are.
      expect(viaCborX(push, SERVER_FRAMES)).toEqual({ frame: { type: FrameType.PUSH, seq: f.seq, messageId: f.messageId, priority: f.priority, data, sentAt: f.sentAt, collapseKey: f.collapseKey } });
      expect(viaCborX(topic, SERVER_FRAMES)).toEqual({ frame: { type: FrameType.TOPIC_PUSH, topic: f.topic, offset: f.offset, messageId: f.messageId, priority: f.priority, data, sentAt: f.sentAt } });
    }
  });

  test("refuses fields no valid frame has", () => {
    const f = { seq: 1, messageId: new Uint8Array(16), priority: 1 as const, data: encodeData(1), sentAt: 1, collapseKey: null };
    expect(() => encodePushFrame({ ...f, seq: -1 })).toThrow(RangeError);
    expect(() => encodePushFrame({ ...f, sentAt: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodePushFrame({ ...f, messageId: new Uint8Array(15) })).toThrow(RangeError);
    expect(() => encodePushFrame({ ...f, priority: 3 as PriorityCode })).toThrow(RangeError);
    expect(() => encodePushFrame({ ...f, data: new Uint8Array(0) })).toThrow(RangeError);
  });
});

describe("the fast reader gives what cbor-x gives, or leaves the bytes to it", () => {
  test("thousands of random frames from the writer, all read by the fast reader", () => {
    const rand = prng(SEED + 1);
    for (let i = 0; i < 2000; i++) {
      const f = randomFields(rand, encodeData(randomJson(rand, 0)));
      expect(`${i}:${agree(encodePushFrame(f), SERVER_FRAMES, `PUSH #${i} seed ${SEED + 1}`)}`).toBe(`${i}:fast`);
      expect(`${i}:${agree(encodeTopicPushFrame(f), SERVER_FRAMES, `TOPIC_PUSH #${i} seed ${SEED + 1}`)}`).toBe(`${i}:fast`);
    }
  });

  test("data that encodeData never writes: tags, other floats, byte strings, non-text keys, indefinite lengths, odd UTF-8", () => {
    const rand = prng(SEED + 2);
    const seen = { fast: 0, left: 0 };
    for (let i = 0; i < 4000; i++) {
      const out: number[] = [];
      randomCbor(rand, 0, out);
      const f = randomFields(rand, new Uint8Array(out));
      seen[agree(encodePushFrame(f), SERVER_FRAMES, `grammar #${i} seed ${SEED + 2}`)]++;
    }
    // Both branches must be exercised for the comparison to mean anything.
    expect(seen.fast).toBeGreaterThan(800);
    expect(seen.left).toBeGreaterThan(800);
  });

  test("random mutations, truncations and extensions of valid frames", () => {
    const rand = prng(SEED + 3);
    const valid = Array.from({ length: 40 }, () => {
      const f = randomFields(rand, encodeData(randomJson(rand, 0)));
      return rand() < 0.5 ? encodePushFrame(f) : encodeTopicPushFrame(f);
    });
    const seen = { fast: 0, left: 0 };
    for (let i = 0; i < 12_000; i++) {
      const base = valid[Math.floor(rand() * valid.length)]!;
      let bytes: Uint8Array;
      const k = rand();
      if (k < 0.5) {
        bytes = base.slice();
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : bytes[at]! ^ (1 << Math.floor(rand() * 8));
      } else if (k < 0.75) bytes = base.slice(0, 1 + Math.floor(rand() * (base.length - 1)));
      else bytes = Uint8Array.from([...base, ...Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * 256))]);
      seen[agree(bytes, rand() < 0.9 ? SERVER_FRAMES : DEVICE_FRAMES, `mutation #${i} seed ${SEED + 3}`)]++;
    }
    expect(seen.fast).toBeGreaterThan(1000);
    expect(seen.left).toBeGreaterThan(3000);
  });

  test("byte strings are plain Uint8Array copies on both paths, even from a Buffer", () => {
    const f = randomFields(prng(SEED + 4), encodeValue([new Uint8Array([1, 2, 3]), new Uint8Array(100).fill(7)]));
    const input = Buffer.from(encodePushFrame(f));
    expect(readPushFrame(input, SERVER_FRAMES)).toBeDefined();
    const fast = decodeFrame(input, SERVER_FRAMES) as Extract<Frame, { type: 3 }>;
    const slow = (viaCborX(input, SERVER_FRAMES) as { frame: Extract<Frame, { type: 3 }> }).frame;
    expect(diff(fast, slow)).toBeUndefined();
    for (const bytes of [fast.messageId, slow.messageId, ...(fast.data as Uint8Array[]), ...(slow.data as Uint8Array[])]) {
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
      expect(bytes.buffer).not.toBe(input.buffer);
    }
  });

  test("a PUSH where the receiver does not take it is left to the cbor-x path and its error", () => {
    const bytes = encodePushFrame(randomFields(prng(SEED + 5), encodeData({ a: 1 })));
    expect(readPushFrame(bytes, DEVICE_FRAMES)).toBeUndefined();
    expect(() => decodeFrame(bytes, DEVICE_FRAMES)).toThrow(expect.objectContaining({ code: "UNKNOWN_FRAME_TYPE" }));
  });
});

/** Well-formed CBOR with the forms encodeData never writes: non-minimal heads, tags, indefinite lengths, simple values, float16/32, non-text and duplicate keys. */
function randomCbor(rand: () => number, depth: number, out: number[]): void {
  const int = (n: number) => Math.floor(rand() * n);
  const push = (...list: number[]) => {
    for (const b of list) out.push(b);
  };
  const head = (major: number, n: number, minimal = rand() < 0.7): void => {
    const wide = [1, 2, 4, 8].filter((w) => n < 2 ** (8 * w));
    const width = minimal ? (n < 24 ? 0 : wide[0]!) : wide[int(wide.length)]!;
    if (width === 0) return push((major << 5) | n);
    push((major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[width]!);
    for (let i = width - 1; i >= 0; i--) push(Math.floor(n / 2 ** (8 * i)) % 256);
  };
  const r = rand();
  if (depth >= 6 || r < 0.5) {
    const k = rand();
    if (k < 0.15) return head(0, [int(24), int(256), int(65536), int(2 ** 32), Math.floor(rand() * 2 ** 53)][int(5)]!);
    if (k < 0.2) return push(0x1b, ...Array.from({ length: 8 }, () => int(256))); // above 2^53 too
    if (k < 0.3) return head(1, [int(24), int(256), int(65536), int(2 ** 32)][int(4)]!);
    if (k < 0.32) return push(0x3b, ...Array.from({ length: 8 }, () => (rand() < 0.5 ? 0 : int(256))));
    if (k < 0.45) {
      const text = new TextEncoder().encode(randomString(rand, false));
      head(3, text.length);
      return push(...text);
    }
    if (k < 0.5) {
      // Invalid UTF-8, a leading BOM, or lone high bytes among ASCII.
      const odd = [[0xff], [0xc3], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf, 0x61], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80]][int(8)]!;
      const text = [...Array.from({ length: int(4) }, () => 0x61), ...odd, ...Array.from({ length: int(70) }, () => 0x62)];
      head(3, text.length);
      return push(...text);
    }
    if (k < 0.55) {
      const n = int(20);
      head(2, n);
      return push(...Array.from({ length: n }, () => int(256)));
    }
    if (k < 0.65) return push([0xf4, 0xf5, 0xf6, 0xf7][int(4)]!);
    if (k < 0.7) return push(0xf9, int(256), int(256));
    if (k < 0.75) return push(0xfa, int(256), int(256), int(256), int(256));
    if (k < 0.82) return push(0xfb, ...Array.from({ length: 8 }, () => int(256)));
    if (k < 0.84) return push(0xf8, 32 + int(224));
    if (k < 0.9) {
      push(...[[0xc0], [0xc1], [0xc2], [0xd8, 0x20], [0xd9, 0xd9, 0xf7]][int(5)]!);
      return randomCbor(rand, depth + 1, out);
    }
    if (k < 0.92) return push(0x5f, 0x41, int(256), 0xff);
    return head(0, int(24));
  }
  const n = int(5);
  const indefinite = rand() < 0.1;
  if (r < 0.72) {
    if (indefinite) push(0x9f);
    else head(4, n);
    for (let i = 0; i < n; i++) randomCbor(rand, depth + 1, out);
  } else {
    if (indefinite) push(0xbf);
    else head(5, n);
    const keys: number[][] = [];
    for (let i = 0; i < n; i++) {
      const kr = rand();
      let key: number[];
      if (kr < 0.2 && keys.length > 0) key = keys[int(keys.length)]!; // a duplicate key
      else if (kr < 0.6) key = [...encodeValue(KEYS[int(KEYS.length)]!)];
      else if (kr < 0.9) key = [[0x01], [0x61, 0x31], [0xf5], [0xf6], [0xf7], [0xf9, 0x3e, 0x00], [0x20], [0x00]][int(8)]!; // keys that stringify like text keys
      else {
        const at = out.length;
        randomCbor(rand, depth + 1, out);
        key = out.splice(at);
      }
      keys.push(key);
      push(...key);
      randomCbor(rand, depth + 1, out);
    }
  }
  if (indefinite) push(0xff);
}
