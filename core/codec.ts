// The wire codec, and the only module that imports cbor-x: cbor-x is the project's CBOR encoder and
// decoder of record. Frames go out as positional CBOR arrays; on raw TCP each one is preceded by its
// length as an unsigned LEB128 varint (1 byte below 128 bytes).
//
// A message's `data` is encoded once, at the edge (encodeData); the relay splices those bytes into
// PUSH and TOPIC_PUSH (encodePushFrame, encodeTopicPushFrame), whose envelope is written by hand
// because cbor-x cannot splice bytes. A device reads those two frames through a hand-written fast
// path that leaves everything it does not take to cbor-x. Why, with figures: docs/benchmarks.md,
// "Codec decision".
import { Decoder, Encoder } from "cbor-x";
import { CborFormatError, checkCbor } from "./codec/cbor-check.ts";
import { checkData, DataError } from "./codec/data-check.ts";
import { type Frame, FrameError, FrameType, frameToArray, validateFrame } from "./protocol.ts";
import { type PushFields, type TopicPushFields, writePushFrame, writeTopicPushFrame } from "./codec/push-frame-writer.ts";
import { readPushFrame } from "./codec/push-frame-reader.ts";

export { DataError, type DataRule, MAX_DATA_DEPTH } from "./codec/data-check.ts";
export { CborFormatError, MAX_CBOR_NESTING } from "./codec/cbor-check.ts";
export type { PushFields, TopicPushFields } from "./codec/push-frame-writer.ts";

// Plain RFC 8949: no records (a cbor-x extension), no tag on byte strings, and map headers in their
// shortest form (without variableMapSize every object gets the 3-byte `b9` header).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true } as ConstructorParameters<typeof Encoder>[0]);
// Maps come back as Map and become plain objects in plain(): cbor-x's own object mode renames a
// "__proto__" key to "__proto_". int64AsNumber: the 8-byte unsigned form reads as a number.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Checks a message's `data` (a JSON value) and encodes it to CBOR, once: the bytes are stored and
 * spliced into every PUSH and TOPIC_PUSH that carries it. Throws DataError (rule "depth", "type" or
 * "number") for what cannot be delivered; docs/protocol.md §4.4 gives the rules and the encoding.
 */
export function encodeData(value: unknown): Uint8Array {
  return encodeValue(checkData(value));
}

/** A PUSH around `data` bytes from encodeData, spliced in as they are. */
export function encodePushFrame(f: PushFields): Uint8Array {
  return writePushFrame(f);
}

/** A TOPIC_PUSH around `data` bytes from encodeData; encoded once and sent to every subscriber. */
export function encodeTopicPushFrame(f: TopicPushFields): Uint8Array {
  return writeTopicPushFrame(f);
}

/**
 * Any frame. PUSH and TOPIC_PUSH carry a decoded `data` value here: written as encodeData writes it
 * when it passes encodeData's checks (the bytes the relay splices in), and otherwise as cbor-x
 * writes the value, so that tests and raw clients can still send any CBOR in `data`.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.type === FrameType.PUSH) return writePushFrame({ ...frame, data: frameData(frame.data) });
  if (frame.type === FrameType.TOPIC_PUSH) return writeTopicPushFrame({ ...frame, data: frameData(frame.data) });
  const fields = frameToArray(frame);
  // cbor-x writes a number of 2^32 or more as a float64, but every uint field of a frame is an
  // unsigned integer on the wire (docs/protocol.md §4.2); a BigInt is written as one.
  for (let i = 1; i < fields.length; i++) {
    const v = fields[i];
    if (typeof v === "number" && v >= 0x1_0000_0000 && Number.isSafeInteger(v)) fields[i] = BigInt(v);
  }
  return encodeValue(fields);
}

function frameData(value: unknown): Uint8Array {
  try {
    return encodeData(value);
  } catch (error) {
    if (error instanceof DataError) return encodeValue(value);
    throw error;
  }
}

/** Any value as cbor-x writes it: numbers as docs/protocol.md §4.4 says, no check of what it is given. */
export function encodeValue(value: unknown): Uint8Array {
  // A copy: the encoder returns a view of its shared buffer (a Buffer under Bun, where it exists).
  return new Uint8Array(encoder.encode(value));
}

/** One CBOR item, checked well-formed first (CborFormatError), with maps as plain objects and byte strings as copies. */
export function decodeValue(bytes: Uint8Array): unknown {
  checkCbor(bytes);
  return plain(decoder.decode(bytes));
}

function plain(value: unknown): unknown {
  // A copy, as the fast reader gives: a plain Uint8Array (not a Buffer) that keeps no frame alive.
  if (value instanceof Uint8Array) return new Uint8Array(value);
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
  const push = readPushFrame(bytes, accept);
  if (push !== undefined) return push;
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch (cause) {
    const detail = cause instanceof CborFormatError ? `: ${cause.message}` : "";
    throw new FrameError("MALFORMED_FRAME", `frame is not a single CBOR value${detail}`, { cause });
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

/** Shared by every reader with nothing buffered (never written to): an idle connection holds no array of its own. */
const NOTHING_BUFFERED = new Uint8Array(0);

/**
 * Splits a raw TCP byte stream into frame bodies. Holds at most one partial frame; a length
 * above the maximum is refused as soon as its prefix is read, before the body arrives.
 */
export class TcpFrameReader {
  private buffer: Uint8Array = NOTHING_BUFFERED;

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
    this.buffer = pos === buf.length ? NOTHING_BUFFERED : buf.slice(pos);
    return frames;
  }

  /** Bytes of a frame not complete yet. */
  get partialBytes(): number {
    return this.buffer.length;
  }
}
