// The only module that calls cbor-x. Frames go out as positional CBOR arrays; on raw TCP each
// one is preceded by its length as an unsigned LEB128 varint (1 byte below 128 bytes).
// Both directions take the fast paths in cbor.ts; cbor-x decodes whatever the reader leaves to
// it (tags, indefinite lengths, invalid UTF-8, ...), so any valid CBOR a peer sends still reads.
import { Encoder } from "cbor-x";
import { CborWriter } from "./cbor.ts";
import { CborNotFast, readCbor } from "./cbor-reader.ts";
import { type Frame, FrameError, FrameType, frameToArray, type PriorityCode, validateFrame } from "./protocol.ts";

// useRecords/tagUint8Array off: plain RFC 8949 CBOR. int64AsNumber: a peer may write any
// unsigned integer in the 8-byte form; it still reads as a number. Maps come back as Map and are
// turned into plain objects here, so a "__proto__" key stays a key instead of setting a prototype.
const cbor = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);
const writer = new CborWriter();

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

export function encodeFrame(frame: Frame): Uint8Array {
  return writer.encode(frameToArray(frame));
}

/** A message's `data`, encoded once at the edge into the bytes every PUSH of it carries. */
export function encodeData(value: unknown): Uint8Array {
  return writer.encode(value);
}

type PushFields = { seq: number; messageId: Uint8Array; priority: PriorityCode; data: Uint8Array; sentAt: number; collapseKey: string | null };
type TopicPushFields = { topic: string; offset: number; messageId: Uint8Array; priority: PriorityCode; data: Uint8Array; sentAt: number };

/** A PUSH frame around `data` bytes from encodeData. */
export function encodePushFrame(f: PushFields): Uint8Array {
  return encodeFrame({ type: FrameType.PUSH, ...f, data: decodeValue(f.data) });
}

/** A TOPIC_PUSH frame around `data` bytes from encodeData. */
export function encodeTopicPushFrame(f: TopicPushFields): Uint8Array {
  return encodeFrame({ type: FrameType.TOPIC_PUSH, ...f, data: decodeValue(f.data) });
}

/** Encodes any CBOR value; used to measure payload sizes against the frame limit. */
export function encodeValue(value: unknown): Uint8Array {
  return writer.encode(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return readCbor(bytes);
  } catch (error) {
    // A CborDecodeError is final: whatever the reader refuses, cbor-x refuses too (core/cbor.test.ts
    // holds the two to that), so malformed frames are not parsed twice.
    if (error !== CborNotFast.signal) throw error;
  }
  return decodeWithCborX(bytes);
}

/** The decoder of record: what decodeValue returned before the fast reader, and still returns for input the reader leaves. */
export function decodeWithCborX(bytes: Uint8Array): unknown {
  return plain(cbor.decode(bytes));
}

function plain(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = plain(value[i]);
    return value;
  }
  if (!(value instanceof Map)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of value) {
    const key = String(k);
    if (key === "__proto__") Object.defineProperty(out, key, { value: plain(v), enumerable: true, writable: true, configurable: true });
    else out[key] = plain(v);
  }
  return out;
}

export function decodeFrame(bytes: Uint8Array, accept: ReadonlySet<number>, maxBytes = DEFAULT_MAX_FRAME_BYTES): Frame {
  if (bytes.length > maxBytes) {
    throw new FrameError("FRAME_TOO_LARGE", `frame of ${bytes.length} bytes exceeds ${maxBytes}`);
  }
  if (bytes.length === 0) throw new FrameError("MALFORMED_FRAME", "empty frame");
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch (cause) {
    throw new FrameError("MALFORMED_FRAME", "frame is not a single CBOR value", { cause });
  }
  return validateFrame(value, accept);
}

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[offset++] = n;
  return offset;
}

/** A frame as it goes on a raw TCP stream: varint length, then the CBOR bytes. */
export function encodeTcpFrame(frame: Frame): Uint8Array {
  return lengthPrefixed(encodeFrame(frame));
}

export function lengthPrefixed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(body.length) + body.length);
  out.set(body, writeVarint(out, 0, body.length));
  return out;
}

// A varint longer than this cannot describe a frame under any allowed maximum (2^28 bytes).
const MAX_VARINT_BYTES = 4;

/**
 * Splits a raw TCP byte stream into frame bodies. Holds at most one partial frame; a length
 * above the maximum is refused as soon as its prefix is read, before the body arrives.
 */
export class TcpFrameReader {
  private buffer: Uint8Array = new Uint8Array(0);

  constructor(private readonly maxBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feeds received bytes; returns the complete frame bodies they finish, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf: Uint8Array;
    if (this.buffer.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.buffer.length + chunk.length);
      buf.set(this.buffer, 0);
      buf.set(chunk, this.buffer.length);
    }
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (pos < buf.length) {
      let length = 0;
      let shift = 1;
      let cursor = pos;
      let complete = false;
      while (cursor < buf.length) {
        const byte = buf[cursor++]!;
        length += (byte & 0x7f) * shift;
        shift *= 0x80;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        if (cursor - pos >= MAX_VARINT_BYTES) {
          throw new FrameError("FRAME_TOO_LARGE", "length prefix longer than 4 bytes");
        }
      }
      if (!complete) break;
      if (length > this.maxBytes) {
        throw new FrameError("FRAME_TOO_LARGE", `length prefix ${length} exceeds ${this.maxBytes}`);
      }
      if (length === 0) throw new FrameError("MALFORMED_FRAME", "zero-length frame");
      if (buf.length - cursor < length) break;
      frames.push(buf.slice(cursor, cursor + length));
      pos = cursor + length;
    }
    this.buffer = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
    return frames;
  }

  get buffered(): number {
    return this.buffer.length;
  }
}
