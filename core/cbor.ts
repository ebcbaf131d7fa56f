// A small CBOR (RFC 8949) encoder for what frames carry: unsigned and negative integers, float64,
// text and byte strings, arrays, string-keyed maps, booleans and null, each in its shortest head.
// It exists for speed on the relay's hot path (npm run bench -- wire): under Bun, cbor-x took
// about 1.2 µs to encode a PUSH and this writer under half that. Its reader is cbor-reader.ts.

const utf8 = new TextEncoder();

export class CborWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  encode(value: unknown): Uint8Array {
    this.pos = 0;
    this.write(value, 0);
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private head(major: number, n: number): void {
    this.ensure(9);
    const m = major << 5;
    if (n < 24) this.buf[this.pos++] = m | n;
    else if (n < 0x100) {
      this.buf[this.pos++] = m | 24;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = m | 25;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n < 0x1_0000_0000) {
      this.buf[this.pos++] = m | 26;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = m | 27;
      this.view.setUint32(this.pos, Math.floor(n / 0x1_0000_0000));
      this.view.setUint32(this.pos + 4, n >>> 0);
      this.pos += 8;
    }
  }

  /** Short ASCII text byte by byte: far cheaper than a TextEncoder call for the keys and ids frames carry. */
  private writeAscii(value: string): boolean {
    const n = value.length;
    this.ensure(n + 2);
    const start = this.pos;
    this.head(3, n);
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        return false;
      }
      this.buf[this.pos++] = c;
    }
    return true;
  }

  private write(value: unknown, depth: number): void {
    if (depth > 64) throw new RangeError("value nested deeper than 64 levels");
    switch (typeof value) {
      case "number":
        // Negative integers below -2^32 go as float64 (still exact): some decoders, cbor-x among
        // them, misread the 8-byte negative form.
        if (Number.isSafeInteger(value) && value >= -0x1_0000_0000) {
          if (value >= 0) this.head(0, value);
          else this.head(1, -1 - value);
        } else {
          this.ensure(9);
          this.buf[this.pos++] = 0xfb;
          this.view.setFloat64(this.pos, value);
          this.pos += 8;
        }
        return;
      case "string": {
        if (value.length < 64 && this.writeAscii(value)) return;
        const bytes = utf8.encode(value);
        this.head(3, bytes.length);
        this.ensure(bytes.length);
        this.buf.set(bytes, this.pos);
        this.pos += bytes.length;
        return;
      }
      case "boolean":
        this.ensure(1);
        this.buf[this.pos++] = value ? 0xf5 : 0xf4;
        return;
      case "undefined":
        this.ensure(1);
        this.buf[this.pos++] = 0xf6;
        return;
      case "bigint":
        if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError("bigint outside uint64");
        this.ensure(9);
        this.buf[this.pos++] = 0x1b;
        this.view.setBigUint64(this.pos, value);
        this.pos += 8;
        return;
      case "object": {
        if (value === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xf6;
          return;
        }
        if (value instanceof Uint8Array) {
          this.head(2, value.length);
          this.ensure(value.length);
          this.buf.set(value, this.pos);
          this.pos += value.length;
          return;
        }
        if (Array.isArray(value)) {
          this.head(4, value.length);
          for (const item of value) this.write(item, depth + 1);
          return;
        }
        const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== "function");
        this.head(5, entries.length);
        for (const [k, v] of entries) {
          this.write(k, depth + 1);
          this.write(v, depth + 1);
        }
        return;
      }
      default:
        throw new TypeError(`cannot encode a ${typeof value} as CBOR`);
    }
  }
}
