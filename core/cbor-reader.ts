// A CBOR (RFC 8949) reader for the definite-length items frames carry, beside the writer in
// cbor.ts. Decoding and validating a PUSH took about 1.5 µs through cbor-x and the pass that
// turned its Maps into objects, and about 0.5 µs through this reader (0.2 µs once the JIT has fully
// optimized it). It hands anything else (tags, indefinite lengths, invalid UTF-8, ...) back to
// codec.ts for cbor-x, which stays the decoder of record, so exotic input decodes as before.

/** The bytes are not one well-formed CBOR item: truncated, a length past the end, or trailing bytes. */
export class CborDecodeError extends Error {
  override name = "CborDecodeError";
}

/**
 * Thrown by CborReader for well-formed input it does not read itself (tags, indefinite lengths,
 * other simple values, ...): the caller hands those bytes to a complete decoder. One shared
 * instance, so the signal costs no allocation or stack capture.
 */
export class CborNotFast extends Error {
  override name = "CborNotFast";
  private constructor() {
    super("not on the CBOR fast path");
  }
  static readonly signal = new CborNotFast();
}

const NOT_FAST = CborNotFast.signal;
// Frames the writer produces nest at most 65 containers deep (it refuses depth > 64); anything
// deeper is left to the complete decoder, so this reader's recursion stays bounded.
const MAX_DEPTH = 64;
// cbor-x refuses arrays above 112 810 000 and maps above 16 810 000 entries; lengths this large
// go to it so that the accept/reject decision stays its own.
const MAX_CONTAINER = 16_000_000;
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const fromCharCode = String.fromCharCode;
// Longer text goes to TextDecoder, whose fixed cost is then below building the string in JS.
const SHORT_TEXT = 32;
const TEXT_CACHE_SIZE = 1024;
const textCache: (string | undefined)[] = new Array(TEXT_CACHE_SIZE).fill(undefined);
const textCacheBytes = new Uint8Array(TEXT_CACHE_SIZE * SHORT_TEXT);

/**
 * Reads the subset of CBOR frames carry: definite-length integers, byte and text strings, arrays,
 * maps, false/true/null/undefined and floats. Maps become plain objects with String(key) keys and
 * "__proto__" kept as an own data property, as codec.ts turned cbor-x's Maps into objects.
 */
export class CborReader {
  private bytes: Uint8Array = new Uint8Array(0);
  private pos = 0;
  // Every element of every container has a head byte of its own, so in a well-formed item the
  // declared lengths sum to less than its size: a header claiming more is refused before any
  // allocation, and nested headers can not each claim the whole remainder.
  private budget = 0;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);

  read(bytes: Uint8Array): unknown {
    this.bytes = bytes;
    this.pos = 0;
    this.budget = bytes.length;
    try {
      const value = this.item(0);
      if (this.pos !== bytes.length) throw new CborDecodeError(`${bytes.length - this.pos} bytes after the CBOR item`);
      return value;
    } finally {
      // Byte strings are views of the input (as with cbor-x); do not keep the last frame alive.
      this.bytes = EMPTY;
    }
  }

  private item(depth: number): unknown {
    const b = this.bytes;
    let p = this.pos;
    if (p >= b.length) throw truncated();
    const head = b[p++]!;
    const major = head >> 5;
    const ai = head & 0x1f;
    if (major === 7) {
      this.pos = p;
      return this.simple(ai);
    }
    let n: number;
    if (ai < 24) n = ai;
    else if (ai === 24) {
      if (p + 1 > b.length) throw truncated();
      n = b[p++]!;
    } else if (ai === 25) {
      if (p + 2 > b.length) throw truncated();
      n = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    } else if (ai === 26) {
      if (p + 4 > b.length) throw truncated();
      n = uint32(b, p);
      p += 4;
    } else if (ai === 27 && major === 0) {
      if (p + 8 > b.length) throw truncated();
      // The same arithmetic as cbor-x's int64AsNumber, so values above 2^53 round alike.
      n = uint32(b, p) * 0x1_0000_0000 + uint32(b, p + 4);
      p += 8;
    } else {
      // 28–30 are reserved and 31 is indefinite length. Under Bun cbor-x reads strings with a
      // native extractor that refuses any 8-byte string length later in the buffer, and it reads the
      // 8-byte negative form wrongly; both are left to it so its answer stays the answer.
      throw NOT_FAST;
    }
    this.pos = p;
    if (major === 0) return n;
    if (major === 1) return -1 - n;
    if (major === 6) throw NOT_FAST; // tags
    // Every element takes at least one byte, so a length past the end is refused before anything
    // is allocated. What is left fits an int32; keeping positions int32 (n may be held as a
    // double after the 4-byte form) spares the JIT from re-specializing this.pos as a double.
    if (n > b.length - p) throw truncated();
    const len = n | 0;
    switch (major) {
      case 2:
        this.pos = p + len;
        // A view, not a copy: what cbor-x returns without copyBuffers (a Buffer for a Buffer input).
        return b.subarray(p, p + len);
      case 3:
        return this.text(len);
      case 4: {
        if ((this.budget -= len) < 0) throw truncated();
        if (depth > MAX_DEPTH || len > MAX_CONTAINER) throw NOT_FAST;
        const out = new Array(len);
        for (let i = 0; i < len; i++) {
          // Small unsigned integers inline: most array elements in frames are. Past the end the
          // byte reads undefined, fails the test, and item() reports the truncation.
          const h = b[this.pos]!;
          if (h < 24) {
            out[i] = h;
            this.pos++;
          } else out[i] = this.item(depth + 1);
        }
        return out;
      }
      case 5:
        if (len * 2 > b.length - p || (this.budget -= len * 2) < 0) throw truncated();
        if (depth > MAX_DEPTH || len > MAX_CONTAINER) throw NOT_FAST;
        return this.map(len, depth);
    }
    throw NOT_FAST; // unreachable: majors 0, 1, 6 and 7 returned above
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
      case 25:
        return this.float(2);
      case 26:
        return this.float(4);
      case 27:
        return this.float(8);
      default:
        throw NOT_FAST; // other simple values, reserved, break
    }
  }

  private float(size: number): number {
    const b = this.bytes;
    const p = this.pos;
    if (p + size > b.length) throw truncated();
    this.pos = p + size;
    if (size === 2) return float16(b[p]!, b[p + 1]!);
    const s = this.scratch;
    for (let i = 0; i < size; i++) s[i] = b[p + i]!;
    return size === 4 ? this.scratchView.getFloat32(0) : this.scratchView.getFloat64(0);
  }

  private text(n: number): string {
    const b = this.bytes;
    const start = this.pos;
    const end = start + n;
    if (n > SHORT_TEXT) return this.utf8(start, end);
    if (n === 0) return "";
    // Keys and short values repeat from frame to frame, and building a string from bytes costs
    // several times more than comparing the bytes with those of one built before. Only ASCII
    // strings are cached, so a full match also proves these bytes are ASCII.
    const slot = (n * 0x9e37 + b[start]! * 0x3b1 + b[end - 1]! * 31 + b[start + (n >> 1)]!) & (TEXT_CACHE_SIZE - 1);
    const known = textCache[slot];
    if (known !== undefined && known.length === n) {
      const base = slot * SHORT_TEXT;
      let i = 0;
      while (i < n && textCacheBytes[base + i] === b[start + i]) i++;
      if (i === n) {
        this.pos = end;
        return known;
      }
    }
    let out = "";
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return this.utf8(start, end);
      out += fromCharCode(c);
    }
    this.pos = end;
    textCache[slot] = out;
    textCacheBytes.set(b.subarray(start, end), slot * SHORT_TEXT);
    return out;
  }

  private utf8(start: number, end: number): string {
    const b = this.bytes;
    // Without cbor-x's native extractor, its TextDecoder drops a leading BOM from long strings
    // but not short ones; which one applies is its business.
    if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) throw NOT_FAST;
    let s: string;
    try {
      s = utf8Strict.decode(b.subarray(start, end));
    } catch {
      // How invalid UTF-8 turns into U+FFFD differs between decoders; keep cbor-x's.
      throw NOT_FAST;
    }
    this.pos = end;
    return s;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const b = this.bytes;
    for (let i = 0; i < n; i++) {
      const h = b[this.pos]!;
      let k: unknown;
      // Short text keys straight to text(); past the end h is undefined and item() throws.
      if (h >= 0x60 && h < 0x78) {
        this.pos++;
        if (h - 0x60 > b.length - this.pos) throw truncated();
        k = this.text(h - 0x60);
      } else k = this.item(depth + 1);
      if (typeof k !== "string") return this.mixedMap(out, k, n - i, depth);
      const v = this.item(depth + 1);
      if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out;
  }

  /**
   * A map with a key that is not text. cbor-x gave a Map, and codec.ts assigned String(key) for
   * each of its entries in order; 1 and "1" are different Map keys but one object key, so which
   * value wins depends on Map order. Rebuilding that Map gives the same answer.
   */
  private mixedMap(prefix: Record<string, unknown>, firstKey: unknown, left: number, depth: number): Record<string, unknown> {
    // Arrays, maps and byte strings as keys stringify in ways that depend on the decoder's types.
    if (typeof firstKey === "object" && firstKey !== null) throw NOT_FAST;
    // The text keys so far are distinct and all came before any other key, so their order among
    // themselves does not matter to the result.
    const m = new Map<unknown, unknown>(Object.entries(prefix));
    let k = firstKey;
    for (let i = 0; i < left; i++) {
      if (i > 0) {
        k = this.item(depth + 1);
        if (typeof k === "object" && k !== null) throw NOT_FAST;
      }
      m.set(k, this.item(depth + 1));
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of m) {
      const s = String(key);
      if (s === "__proto__") Object.defineProperty(out, s, { value: v, enumerable: true, writable: true, configurable: true });
      else out[s] = v;
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);
const reader = new CborReader();

/** Decodes one CBOR item; throws CborDecodeError for malformed bytes and CborNotFast.signal for input to hand to a complete decoder. */
export function readCbor(bytes: Uint8Array): unknown {
  return reader.read(bytes);
}

function truncated(): CborDecodeError {
  return new CborDecodeError("unexpected end of CBOR data");
}

function uint32(b: Uint8Array, p: number): number {
  return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function float16(hi: number, lo: number): number {
  const exponent = (hi >> 2) & 0x1f;
  const mantissa = ((hi & 3) << 8) | lo;
  const sign = hi & 0x80 ? -1 : 1;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  if (exponent === 0) return sign * (mantissa / 0x100_0000);
  return sign * (1 + mantissa / 0x400) * 2 ** (exponent - 15);
}
