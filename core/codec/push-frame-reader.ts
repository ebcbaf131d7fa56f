// PUSH and TOPIC_PUSH read by hand, the frames a device decodes for every message: through cbor-x
// decoding and validating a PUSH costs several times JSON.parse under Bun (docs/benchmarks.md,
// "Codec decision"). This reads the two fixed envelopes and, in `data`, the JSON-shaped CBOR that
// encodeData writes (definite-length maps with text keys, arrays, text, integers, float64, simple
// values). It never decides anything itself: for any other bytes - another frame type, a field
// validateFrame would refuse, tags, other floats, indefinite lengths, non-text map keys, invalid
// UTF-8, malformed input - it returns undefined and codec.ts decodes with cbor-x, so each error and
// each unusual value keeps cbor-x's answer (push-frame.test.ts compares the two on random input).
import { MAX_CBOR_NESTING } from "./cbor-check.ts";
import { FrameType, type PushFrame, TOPIC_PATTERN, type TopicPushFrame } from "../protocol.ts";

// Thrown to stop reading and leave the frame to cbor-x; one shared value, so it costs no allocation.
const LEAVE = Symbol("leave to cbor-x");
const EMPTY = new Uint8Array(0);
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Keys and short values repeat from frame to frame, and making a string from bytes costs several
// times more than comparing the bytes with those of one made before. Only ASCII text is cached, so
// a full match of `length` bytes also proves that they are ASCII.
const SHORT_TEXT = 32;
const TEXT_CACHE_SIZE = 1024;
const textCache: (string | undefined)[] = new Array(TEXT_CACHE_SIZE).fill(undefined);
const textCacheBytes = new Uint8Array(TEXT_CACHE_SIZE * SHORT_TEXT);
// Text is decoded from a copy in this buffer, through a view made once per length: under Bun a
// subarray() of the frame, which TextDecoder would need otherwise, costs more than the copy.
const SCRATCH = 256;
const scratchBytes = new Uint8Array(SCRATCH);
const scratchViews = Array.from({ length: SCRATCH + 1 }, (_, n) => new Uint8Array(scratchBytes.buffer, 0, n));

class PushFrameReader {
  private b: Uint8Array = EMPTY;
  private p = 0;

  read(bytes: Uint8Array, accept: ReadonlySet<number>): PushFrame | TopicPushFrame | undefined {
    const head = bytes[0];
    const type = bytes[1];
    const isPush = type === FrameType.PUSH && (head === 0x86 || head === 0x87);
    if (!(isPush || (type === FrameType.TOPIC_PUSH && head === 0x87)) || !accept.has(type)) return undefined;
    this.b = bytes;
    this.p = 2;
    try {
      const frame = isPush ? this.push(head === 0x87) : this.topicPush();
      return this.p === bytes.length ? frame : undefined;
    } catch (error) {
      if (error === LEAVE) return undefined;
      throw error;
    } finally {
      this.b = EMPTY; // do not keep the last frame's bytes alive
    }
  }

  private push(withKey: boolean): PushFrame {
    const seq = this.uint();
    const messageId = this.messageId();
    const priority = this.priority();
    const data = this.item(2);
    const sentAt = this.uint();
    let collapseKey: string | null = null;
    if (withKey) {
      if (this.b[this.p] === 0xf6) this.p++;
      else if ((collapseKey = this.textField()).length > 256) throw LEAVE;
    }
    return { type: FrameType.PUSH, seq, messageId, priority, data, sentAt, collapseKey };
  }

  private topicPush(): TopicPushFrame {
    const topic = this.textField();
    if (!TOPIC_PATTERN.test(topic)) throw LEAVE;
    const offset = this.uint();
    const messageId = this.messageId();
    const priority = this.priority();
    const data = this.item(2);
    const sentAt = this.uint();
    return { type: FrameType.TOPIC_PUSH, topic, offset, messageId, priority, data, sentAt };
  }

  /** A uint field as validateFrame takes it: major type 0 up to 2^53 - 1. Past the end, b[p] is undefined and matches nothing. */
  private uint(): number {
    const b = this.b;
    const p = this.p;
    const initial = b[p]!;
    if (initial < 24) {
      this.p = p + 1;
      return initial;
    }
    if (initial === 0x18 && p + 2 <= b.length) {
      this.p = p + 2;
      return b[p + 1]!;
    }
    if (initial === 0x19 && p + 3 <= b.length) {
      this.p = p + 3;
      return (b[p + 1]! << 8) | b[p + 2]!;
    }
    if (initial === 0x1a && p + 5 <= b.length) {
      this.p = p + 5;
      return uint32(b, p + 1);
    }
    if (initial === 0x1b && p + 9 <= b.length) {
      const n = uint32(b, p + 1) * 0x1_0000_0000 + uint32(b, p + 5);
      if (n > Number.MAX_SAFE_INTEGER) throw LEAVE;
      this.p = p + 9;
      return n;
    }
    throw LEAVE;
  }

  private messageId(): Uint8Array {
    const b = this.b;
    const p = this.p;
    if (b[p] !== 0x50 || p + 17 > b.length) throw LEAVE;
    this.p = p + 17;
    return copy(b, p + 1, 16);
  }

  private priority(): 0 | 1 | 2 {
    const v = this.b[this.p++];
    if (v !== 0 && v !== 1 && v !== 2) throw LEAVE;
    return v;
  }

  private textField(): string {
    const initial = this.b[this.p]!;
    if (initial < 0x60 || initial > 0x7a) throw LEAVE;
    return this.item(2) as string;
  }

  private item(depth: number): unknown {
    if (depth > MAX_CBOR_NESTING) throw LEAVE;
    const b = this.b;
    let p = this.p;
    if (p >= b.length) throw LEAVE;
    const initial = b[p++]!;
    const major = initial >> 5;
    const ai = initial & 0x1f;
    if (major === 7) {
      this.p = p;
      return this.simple(ai);
    }
    let n: number;
    if (ai < 24) n = ai;
    else if (ai === 24) {
      if (p + 1 > b.length) throw LEAVE;
      n = b[p++]!;
    } else if (ai === 25) {
      if (p + 2 > b.length) throw LEAVE;
      n = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    } else if (ai === 26) {
      if (p + 4 > b.length) throw LEAVE;
      n = uint32(b, p);
      p += 4;
    } else if (ai === 27 && major === 0) {
      if (p + 8 > b.length) throw LEAVE;
      // cbor-x's arithmetic with int64AsNumber, so that values above 2^53 round alike.
      n = uint32(b, p) * 0x1_0000_0000 + uint32(b, p + 4);
      p += 8;
    } else throw LEAVE;
    this.p = p;
    if (major === 0) return n;
    if (major === 1) return -1 - n;
    // Every element takes at least one byte: a count past the end is left before anything is allocated.
    if (n > b.length - p) throw LEAVE;
    switch (major) {
      case 2:
        this.p = p + n;
        return copy(b, p, n);
      case 3:
        return this.text(p, n);
      case 4: {
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5:
        return this.map(n, depth);
      default:
        throw LEAVE; // tags
    }
  }

  private simple(ai: number): unknown {
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 27: {
        const p = this.p;
        if (p + 8 > this.b.length) throw LEAVE;
        this.p = p + 8;
        return float64(this.b, p);
      }
      default:
        throw LEAVE;
    }
  }

  private map(n: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      // Only text keys; past the end, initial is undefined and matches nothing.
      const p = this.p;
      const initial = this.b[p]!;
      let key: string;
      if (initial >= 0x60 && initial < 0x78) {
        if (initial - 0x60 > this.b.length - p - 1) throw LEAVE;
        key = this.text(p + 1, initial - 0x60);
      } else if (initial >= 0x78 && initial <= 0x7a) key = this.item(depth + 1) as string;
      else throw LEAVE;
      const value = this.item(depth + 1);
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  private text(start: number, n: number): string {
    const b = this.b;
    const end = start + n;
    this.p = end;
    if (n === 0) return "";
    if (n > SHORT_TEXT) return this.utf8(start, end);
    const slot = (n * 0x9e37 + b[start]! * 0x3b1 + b[end - 1]! * 31 + b[start + (n >> 1)]!) & (TEXT_CACHE_SIZE - 1);
    const known = textCache[slot];
    const base = slot * SHORT_TEXT - start;
    if (known !== undefined && known.length === n) {
      let i = start;
      for (; i + 4 <= end; i += 4) {
        if (textCacheBytes[base + i] !== b[i] || textCacheBytes[base + i + 1] !== b[i + 1] || textCacheBytes[base + i + 2] !== b[i + 2] || textCacheBytes[base + i + 3] !== b[i + 3]) break;
      }
      while (i < end && textCacheBytes[base + i] === b[i]) i++;
      if (i === end) return known;
    }
    // A miss: one pass copies the bytes into the cache slot and the scratch buffer and tells ASCII.
    textCache[slot] = undefined;
    let high = 0;
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      high |= c;
      textCacheBytes[base + i] = c;
      scratchBytes[i - start] = c;
    }
    if (high >= 0x80) return this.utf8(start, end);
    const text = utf8Strict.decode(scratchViews[n]!);
    textCache[slot] = text;
    return text;
  }

  /** Strict UTF-8, through the scratch buffer up to its size. */
  private utf8(start: number, end: number): string {
    const b = this.b;
    const n = end - start;
    // How a leading BOM and invalid UTF-8 come out differs between decoders; keep cbor-x's.
    if (n >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) throw LEAVE;
    let view: Uint8Array;
    if (n <= SCRATCH) {
      for (let i = 0; i < n; i++) scratchBytes[i] = b[start + i]!;
      view = scratchViews[n]!;
    } else view = b.subarray(start, end);
    try {
      return utf8Strict.decode(view);
    } catch {
      throw LEAVE;
    }
  }
}

/** Byte strings are plain Uint8Array copies, as decodeValue gives them: never views that keep a frame's bytes alive. */
function copy(b: Uint8Array, start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  // A short copy in a loop costs less than the subarray() view that set() would need.
  if (n > 64) out.set(b.subarray(start, start + n));
  else for (let i = 0; i < n; i++) out[i] = b[start + i]!;
  return out;
}

const scratch = new DataView(new ArrayBuffer(8));

function float64(b: Uint8Array, p: number): number {
  for (let i = 0; i < 8; i++) scratch.setUint8(i, b[p + i]!);
  return scratch.getFloat64(0);
}

function uint32(b: Uint8Array, p: number): number {
  return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

const reader = new PushFrameReader();

/** The frame, when `bytes` are a PUSH or TOPIC_PUSH this reader takes and `accept` allows; otherwise undefined. */
export function readPushFrame(bytes: Uint8Array, accept: ReadonlySet<number>): PushFrame | TopicPushFrame | undefined {
  return reader.read(bytes, accept);
}
