import { describe, expect, test } from "bun:test";
import { Encoder } from "cbor-x";
import { CborDecodeError, CborNotFast, readCbor } from "./cbor-reader.ts";
import { CborWriter } from "./cbor.ts";
import { decodeValue, decodeWithCborX, encodeFrame } from "./codec.ts";
import { type Frame, FrameType, uuidToBytes } from "./protocol.ts";

// The fast reader must give what cbor-x + plain() gave (decodeWithCborX, the old path) for
// every input it answers, and leave the rest to it. Seeded so that a failure prints a seed and
// an index that reproduce it.
const SEED = 0x5eed_cb04;

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

// The options codec.ts gives cbor-x, so its encoder writes what a peer using cbor-x would.
const cborx = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);
const writer = new CborWriter();

type Outcome = { kind: "value"; value: unknown } | { kind: "error"; error: unknown } | { kind: "fallback" };

function fast(bytes: Uint8Array): Outcome {
  try {
    return { kind: "value", value: readCbor(bytes) };
  } catch (error) {
    if (error === CborNotFast.signal) return { kind: "fallback" };
    return { kind: "error", error };
  }
}

function old(bytes: Uint8Array): Outcome {
  try {
    return { kind: "value", value: decodeWithCborX(bytes) };
  } catch (error) {
    return { kind: "error", error };
  }
}

/** The first difference between two decoded values, stricter than toEqual: -0, key order, own __proto__, byte-string class. */
function diff(a: unknown, b: unknown, path = "$"): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== "object" || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  const x = a as Record<string | symbol, unknown>;
  const y = b as Record<string | symbol, unknown>;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: prototype ${x.constructor?.name} vs ${y.constructor?.name}`;
  if (x instanceof Uint8Array && y instanceof Uint8Array) {
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) return `${path}: bytes differ`;
    return undefined;
  }
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      if (!(i in x) || !(i in y)) return `${path}[${i}]: hole`;
      const d = diff(x[i], y[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (x instanceof Date && y instanceof Date) return Object.is(x.getTime(), y.getTime()) ? undefined : `${path}: dates differ`;
  const kx = Reflect.ownKeys(x);
  const ky = Reflect.ownKeys(y);
  if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) return `${path}: keys [${kx.map(String)}] vs [${ky.map(String)}]`;
  for (const k of kx) {
    const dx = Object.getOwnPropertyDescriptor(x, k)!;
    const dy = Object.getOwnPropertyDescriptor(y, k)!;
    if (dx.enumerable !== dy.enumerable || dx.writable !== dy.writable || dx.configurable !== dy.configurable || "get" in dx !== "get" in dy) {
      return `${path}.${String(k)}: property attributes differ`;
    }
    const d = diff(dx.value, dy.value, `${path}.${String(k)}`);
    if (d) return d;
  }
  return undefined;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The contract, checked on one input: a value from the fast reader is the old path's value; a
 * decode error from it is an error there too; and decodeValue as a whole always agrees with the
 * old path. Returns what the fast reader did, so callers can check it took part.
 */
function agree(bytes: Uint8Array, where: string): Outcome["kind"] {
  const f = fast(bytes);
  const o = old(bytes);
  const context = () => `${where}, bytes ${hex(bytes.subarray(0, 200))}${bytes.length > 200 ? "…" : ""}`;
  if (f.kind === "value") {
    if (o.kind !== "value") throw new Error(`fast path accepted what cbor-x refuses (${String((o as { error: unknown }).error)}): ${context()}`);
    const d = diff(f.value, o.value);
    if (d) throw new Error(`fast path differs at ${d}: ${context()}`);
  } else if (f.kind === "error") {
    if (!(f.error instanceof CborDecodeError)) throw new Error(`fast path threw a non-decode error ${String(f.error)}: ${context()}`);
    if (o.kind !== "error") throw new Error(`fast path refused (${f.error.message}) what cbor-x accepts: ${context()}`);
  }
  let n: Outcome;
  try {
    n = { kind: "value", value: decodeValue(bytes) };
  } catch (error) {
    n = { kind: "error", error };
  }
  if (n.kind !== o.kind) throw new Error(`decodeValue ${n.kind} but old path ${o.kind}: ${context()}`);
  if (n.kind === "value" && o.kind === "value") {
    const d = diff(n.value, o.value);
    if (d) throw new Error(`decodeValue differs at ${d}: ${context()}`);
  }
  return f.kind;
}

// Integers either side of every head width, and of the float64-exact range.
const INT_EDGES = [0, 1, 23, 24, 25, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1];
const INTS = INT_EDGES.flatMap((n) => [n, -n, -n - 1]).filter((n) => Number.isSafeInteger(n));
const FLOATS = [0.5, -1.25, 1.1, 1e300, -1e-300, 5e-324, 2 ** -24, 65504, 3.4028234663852886e38, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 2 ** 53, 2 ** 64, -(2 ** 63)];
const KEYS = ["", "a", "id", "title", "__proto__", "constructor", "toString", "1", "01", "-1", "4294967295", "é", "日本", "k".repeat(31), "k".repeat(32), "k".repeat(33)];

function randomString(rand: () => number): string {
  const length = [0, 1, 5, 15, 16, 23, 24, 31, 32, 33, 64, 65, 100][Math.floor(rand() * 13)]!;
  let s = "";
  const kind = rand();
  for (let i = 0; i < length; i++) {
    if (kind < 0.6) s += String.fromCharCode(32 + Math.floor(rand() * 95));
    else if (kind < 0.7) s += String.fromCharCode(Math.floor(rand() * 128)); // control characters and NUL too
    else {
      const r = rand();
      // Latin-1, BMP (but not U+FEFF, whose fate at the start of a string is cbor-x's) and astral.
      const cp = r < 0.4 ? 0x80 + Math.floor(rand() * 0x780) : r < 0.8 ? 0x800 + Math.floor(rand() * 0xd000) : 0x10000 + Math.floor(rand() * 0xfffff);
      s += String.fromCodePoint(cp === 0xfeff ? 0xfefe : cp);
    }
  }
  return s;
}

/** A random JS value of the kinds frames carry; `maps` adds Map values with non-text keys (for cbor-x's encoder only). */
function randomValue(rand: () => number, depth: number, maps: boolean): unknown {
  const r = rand();
  const leaf = depth >= 5 || r < (depth === 0 ? 0.2 : 0.65);
  if (leaf) {
    const k = rand();
    if (k < 0.3) return INTS[Math.floor(rand() * INTS.length)]! + (rand() < 0.3 ? Math.floor(rand() * 3) - 1 : 0);
    if (k < 0.4) return Math.floor((rand() - 0.5) * 2 ** (1 + Math.floor(rand() * 53)));
    if (k < 0.5) return FLOATS[Math.floor(rand() * FLOATS.length)]!;
    if (k < 0.55) return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    if (k < 0.8) return randomString(rand);
    if (k < 0.85) return rand() < 0.5;
    if (k < 0.9) return null;
    return Uint8Array.from({ length: [0, 1, 16, 24, 40][Math.floor(rand() * 5)]! }, () => Math.floor(rand() * 256));
  }
  // Now and then a long container of scalars, for the 1- and 2-byte length heads.
  const long = rand() < 0.05;
  const size = long ? 20 + Math.floor(rand() * 300) : Math.floor(rand() * 6);
  const inner = long ? 5 : depth + 1;
  if (r < 0.75) return Array.from({ length: size }, () => randomValue(rand, inner, maps));
  if (maps && r < 0.85) {
    const m = new Map<unknown, unknown>();
    const mapKeys: unknown[] = [1, "1", 0, "0", -1, 1.5, "1.5", true, "true", null, "null", undefined, "undefined", "a", "__proto__", 2 ** 40];
    for (let i = 0; i < Math.min(size, 8); i++) m.set(mapKeys[Math.floor(rand() * mapKeys.length)], randomValue(rand, inner, maps));
    return m;
  }
  const o: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = rand() < 0.6 ? KEYS[Math.floor(rand() * KEYS.length)]! : Array.from(randomString(rand)).slice(0, 40).join("");
    Object.defineProperty(o, key, { value: randomValue(rand, inner, maps), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

describe("the fast reader against cbor-x + plain()", () => {
  test("thousands of random values, each encoded by the writer and by cbor-x", () => {
    const rand = prng(SEED);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(rand, 0, false);
      // Every form either encoder writes for these values is on the fast path.
      expect(`${i}:${agree(writer.encode(value), `writer value #${i} seed ${SEED}`)}`).toBe(`${i}:value`);
      expect(`${i}:${agree(cborx.encode(value), `cbor-x value #${i} seed ${SEED}`)}`).toBe(`${i}:value`);
    }
    for (let i = 0; i < 1000; i++) {
      const value = randomValue(rand, 0, true);
      expect(`${i}:${agree(cborx.encode(value), `cbor-x map value #${i} seed ${SEED}`)}`).toBe(`${i}:value`);
    }
  });

  test("a Buffer in gives Buffer byte strings out, as cbor-x did", () => {
    const bytes = Buffer.from(writer.encode([new Uint8Array([1, 2, 3]), { b: new Uint8Array(0) }]));
    const value = decodeValue(bytes) as [Uint8Array, { b: Uint8Array }];
    expect(diff(value, decodeWithCborX(bytes))).toBeUndefined();
    expect(value[0]).toBeInstanceOf(Buffer);
    expect(value[1].b).toBeInstanceOf(Buffer);
    // Views of the input, not copies, as cbor-x gave without copyBuffers.
    expect(value[0].buffer).toBe(bytes.buffer);
    expect((decodeWithCborX(bytes) as [Uint8Array])[0].buffer).toBe(bytes.buffer);
  });
});

/** Well-formed CBOR from the grammar, with the forms neither encoder writes: non-minimal heads, duplicate and non-text keys, tags, indefinite lengths, simple values, float16/32. */
function randomCbor(rand: () => number, depth: number, out: number[]): void {
  const int = (n: number) => Math.floor(rand() * n);
  const head = (major: number, n: number, minimal = rand() < 0.7): void => {
    const m = major << 5;
    const wide = [1, 2, 4, 8].filter((w) => n < 2 ** (8 * w));
    const width = minimal ? (n < 24 ? 0 : wide[0]!) : wide[int(wide.length)]!;
    if (width === 0) {
      out.push(m | n);
      return;
    }
    out.push(m | { 1: 24, 2: 25, 4: 26, 8: 27 }[width]!);
    for (let i = width - 1; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) % 256);
  };
  const bytes = (list: number[]) => {
    for (const b of list) out.push(b);
  };
  const r = rand();
  if (depth >= 6 || r < 0.5) {
    const k = rand();
    if (k < 0.15) return head(0, [int(24), int(256), int(65536), int(2 ** 32), Math.floor(rand() * 2 ** 53)][int(5)]!);
    if (k < 0.2) return bytes([0x1b, ...Array.from({ length: 8 }, () => int(256))]); // above 2^53 too
    if (k < 0.3) return head(1, [int(24), int(256), int(65536), int(2 ** 32)][int(4)]!);
    if (k < 0.32) return bytes([0x3b, ...Array.from({ length: 8 }, () => (rand() < 0.5 ? 0 : int(256)))]);
    if (k < 0.45) {
      const text = new TextEncoder().encode(randomString(rand));
      head(3, text.length);
      return bytes([...text]);
    }
    if (k < 0.5) {
      // Invalid UTF-8, a leading BOM, or lone high bytes among ASCII.
      const odd = [[0xff], [0xc3], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf, 0x61], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80]][int(8)]!;
      const text = [...Array.from({ length: int(4) }, () => 0x61), ...odd, ...Array.from({ length: int(70) }, () => 0x62)];
      head(3, text.length);
      return bytes(text);
    }
    if (k < 0.55) {
      const n = int(20);
      head(2, n);
      return bytes(Array.from({ length: n }, () => int(256)));
    }
    if (k < 0.65) return bytes([[0xf4, 0xf5, 0xf6, 0xf7][int(4)]!]);
    if (k < 0.68) return bytes([0xf9, int(256), int(256)]);
    if (k < 0.72) {
      // float16 infinities, NaN, signed zero, subnormals, the largest and smallest normal
      const half = [0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x8000, 0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x3c00][int(11)]!;
      return bytes([0xf9, half >> 8, half & 0xff]);
    }
    if (k < 0.78) return bytes([0xfa, int(256), int(256), int(256), int(256)]);
    if (k < 0.84) return bytes([0xfb, int(256), int(256), int(256), int(256), int(256), int(256), int(256), int(256)]);
    if (k < 0.87) return bytes([0xf8, int(256)]);
    if (k < 0.89) return bytes([0xe0 | int(20)]);
    if (k < 0.92) {
      // Tag numbers from every head width, some larger than what follows them.
      bytes([[0xc0], [0xc1], [0xc2], [0xc3], [0xc4], [0xc5], [0xd8, 0x20], [0xd9, 0xd9, 0xf7], [0xda, 0, 1, 0, 0], [0xdb, 0, 0, 0, 1, 0, 0, 0, 0]][int(10)]!);
      return randomCbor(rand, depth + 1, out);
    }
    if (k < 0.94) return bytes([0x5f, 0x41, int(256), 0xff]);
    if (k < 0.96) return bytes([0x7f, 0x61, 0x61, 0xff]);
    return head(0, int(24));
  }
  const n = depth === 0 && rand() < 0.05 ? 30 + int(100) : int(5);
  if (r < 0.72) {
    const indefinite = rand() < 0.05;
    if (indefinite) out.push(0x9f);
    else head(4, n);
    for (let i = 0; i < n; i++) randomCbor(rand, depth + 1, out);
    if (indefinite) out.push(0xff);
    return;
  }
  const indefinite = rand() < 0.05;
  if (indefinite) out.push(0xbf);
  else head(5, n);
  const keys: number[][] = [];
  for (let i = 0; i < n; i++) {
    const kr = rand();
    let key: number[];
    if (kr < 0.2 && keys.length > 0) key = keys[int(keys.length)]!; // duplicate key
    else if (kr < 0.55) key = [...writer.encode(KEYS[int(KEYS.length)]!)];
    else if (kr < 0.9) {
      // Keys that stringify alike: 1 and "1", true and "true", null and "null", 1.5 and "1.5".
      key = [[0x01], [0x61, 0x31], [0xf5], [0x64, 0x74, 0x72, 0x75, 0x65], [0xf6], [0x64, 0x6e, 0x75, 0x6c, 0x6c], [0xf7], [0xf9, 0x3e, 0x00], [0x63, 0x31, 0x2e, 0x35], [0x20], [0x62, 0x2d, 0x31], [0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0x63, 0x4e, 0x61, 0x4e], [0xf9, 0x80, 0x00], [0x00]][int(15)]!;
    } else {
      const at = out.length;
      randomCbor(rand, depth + 1, out);
      key = out.splice(at);
    }
    keys.push(key);
    bytes(key);
    randomCbor(rand, depth + 1, out);
  }
  if (indefinite) out.push(0xff);
}

describe("hostile and unusual input", () => {
  test("random well-formed CBOR from the grammar, incl. forms left to cbor-x", () => {
    const rand = prng(SEED + 1);
    const seen = { value: 0, error: 0, fallback: 0 };
    for (let i = 0; i < 4000; i++) {
      const out: number[] = [];
      randomCbor(rand, 0, out);
      seen[agree(new Uint8Array(out), `grammar #${i} seed ${SEED + 1}`)]++;
    }
    // Both branches must actually be exercised for the comparison to mean anything.
    expect(seen.value).toBeGreaterThan(1000);
    expect(seen.fallback).toBeGreaterThan(500);
  });

  const frames: Frame[] = [
    { type: FrameType.HELLO, version: 1, deviceId: "phone-1", token: "t.k", lastSeq: 41, heartbeat: 30, epoch: 7, topics: { news: 3 } },
    { type: FrameType.PUSH, seq: 1042, messageId: uuidToBytes("01a1fd51-52ed-7120-8fe2-c5ba692d6d32"), priority: 1, data: { title: "Order shipped", body: "Your parcel is on its way", orderId: 88123, é: [1.5, -7, null, true] }, sentAt: 1_795_000_000_000, collapseKey: "k" },
    { type: FrameType.GOAWAY, reason: 4040, alternatives: [["relay-2", "ws://b:1", "b:2"]], retryAfterMs: 0 },
    { type: FrameType.ACK, seq: 2 ** 40 },
  ];

  test("random mutations, truncations and extensions of valid frames, and random bytes", () => {
    const rand = prng(SEED + 2);
    const valid = [...frames.map(encodeFrame), ...Array.from({ length: 30 }, () => writer.encode(randomValue(rand, 0, false))), ...Array.from({ length: 30 }, () => cborx.encode(randomValue(rand, 0, true)))];
    const seen = { value: 0, error: 0, fallback: 0 };
    for (let i = 0; i < 12_000; i++) {
      const base = valid[Math.floor(rand() * valid.length)]!;
      let bytes: Uint8Array;
      const k = rand();
      if (k < 0.45) {
        bytes = base.slice();
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : bytes[at]! ^ (1 << Math.floor(rand() * 8));
      } else if (k < 0.7) bytes = base.slice(0, Math.floor(rand() * base.length));
      else if (k < 0.8) bytes = Uint8Array.from([...base, ...Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * 256))]);
      else bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 24) }, () => Math.floor(rand() * 256));
      if (bytes.length === 0) continue;
      seen[agree(bytes, `mutation #${i} seed ${SEED + 2}`)]++;
    }
    expect(seen.value).toBeGreaterThan(1000);
    expect(seen.error).toBeGreaterThan(1000);
  });

  test("trailing bytes, truncation and empty input are decode errors, as in cbor-x", () => {
    for (const bytes of [[0x82, 0x04, 0x01, 0x01], [0x83, 0x01, 0x02], [0x19, 0x01], [0xfb, 0, 0], [0x62, 0x61], []]) {
      expect(() => readCbor(new Uint8Array(bytes))).toThrow(CborDecodeError);
      expect(() => decodeWithCborX(new Uint8Array(bytes))).toThrow();
    }
  });

  test("a length beyond the remaining bytes is refused before anything is allocated", () => {
    for (const bytes of [[0x9a, 0xff, 0xff, 0xff, 0xff], [0xba, 0x7f, 0xff, 0xff, 0xff, 0x01], [0x5a, 0xff, 0xff, 0xff, 0xff], [0x7a, 0xff, 0xff, 0xff, 0xff]]) {
      expect(() => readCbor(new Uint8Array(bytes))).toThrow(CborDecodeError);
    }
    // Nested headers may not each claim the whole remainder.
    const nested = new Uint8Array(3000);
    for (let i = 0; i < 60; i++) nested.set([0x99, 0x0b, 0xa0], i * 3); // 2976 elements each
    expect(() => readCbor(nested)).toThrow(CborDecodeError);
    agree(nested, "nested claims");
  });

  test("nesting deeper than 64 is left to cbor-x, which still reads it", () => {
    for (const depth of [64, 65, 66, 200, 5000]) {
      const bytes = new Uint8Array(depth + 1).fill(0x81);
      bytes[depth] = 0x01;
      expect(agree(bytes, `depth ${depth}`)).toBe(depth <= 65 ? "value" : "fallback");
    }
    const deepest = JSON.parse(`${"[".repeat(65)}${"]".repeat(65)}`);
    expect(agree(writer.encode(deepest), "the writer's deepest")).toBe("value");
  });

  test("forms cbor-x reads its own way are left to it", () => {
    const cases: [number[], unknown][] = [
      [[0x3b, 0, 0, 0, 1, 0, 0, 0, 0], -1], // cbor-x's int64AsNumber reads this 8-byte negative as -1
      [[0xf8, 0x14], false],
      [[0xc1, 0x01], new Date(1000)],
      [[0x9f, 0x01, 0xff], [1]],
      [[0x7b, 0, 0, 0, 0, 0, 0, 0, 1, 0x61], "a"],
      [[0x61, 0xff], "\ufffd"],
      [[0x64, 0xef, 0xbb, 0xbf, 0x61], "\ufeffa"],
      [[0xa1, 0x81, 0x01, 0x02], { "1": 2 }],
    ];
    for (const [bytes, expected] of cases) {
      const input = new Uint8Array(bytes);
      expect(fast(input).kind).toBe("fallback");
      expect(decodeValue(input)).toEqual(expected);
      agree(input, hex(input));
    }
  });

  test("maps mixing text and other keys resolve collisions as the Map did", () => {
    // {1: "a", "1": "b", 1: "c"}: the Map holds 1 -> "c" then "1" -> "b", so "b" wins.
    const bytes = new Uint8Array([0xa3, 0x01, 0x61, 0x61, 0x61, 0x31, 0x61, 0x62, 0x01, 0x61, 0x63]);
    expect(fast(bytes).kind).toBe("value");
    expect(decodeValue(bytes)).toEqual({ "1": "b" });
    agree(bytes, "collision");
    const proto = new Uint8Array([0xa2, 0x69, ...new TextEncoder().encode("__proto__"), 0xa1, 0x61, 0x70, 0xf5, 0x01, 0x02]);
    const value = decodeValue(proto) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["1", "__proto__"]);
    agree(proto, "__proto__ with a number key");
  });
});
