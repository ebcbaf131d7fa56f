// PUSH and TOPIC_PUSH written by hand around `data` bytes that were encoded once (codec.ts
// encodeData): the relay writes one of these per push, and cbor-x cannot splice bytes it did not
// encode itself. Writing the envelope around them takes a fraction of what cbor-x takes to encode
// the frame from a value (docs/benchmarks.md, "Codec decision"). Every head is in its shortest form
// and uint fields of 2^32 or more take the 8-byte form `1b` (docs/protocol.md §4.2); cbor-x decodes
// every byte written here (push-frame.test.ts).
import { FrameType, type PriorityCode } from "../protocol.ts";

export type PushFields = {
  seq: number;
  messageId: Uint8Array;
  priority: PriorityCode;
  /** One CBOR item, as encodeData wrote it. */
  data: Uint8Array;
  sentAt: number;
  collapseKey: string | null;
};

export type TopicPushFields = {
  topic: string;
  offset: number;
  messageId: Uint8Array;
  priority: PriorityCode;
  data: Uint8Array;
  sentAt: number;
};

const utf8 = new TextEncoder();

export function writePushFrame(f: PushFields): Uint8Array {
  checkCommon(f.messageId, f.priority, f.data);
  const key = f.collapseKey === null ? null : textBytes(f.collapseKey);
  const size = 2 + uintSize(f.seq) + 17 + 1 + f.data.length + uintSize(f.sentAt) + (key === null ? 0 : textSize(key));
  const out = new Uint8Array(size);
  out[0] = key === null ? 0x86 : 0x87; // array of 6 or 7: the collapse key is left out when null
  out[1] = FrameType.PUSH;
  let p = writeUint(out, 2, f.seq);
  p = writeEnd(out, p, f.messageId, f.priority, f.data, f.sentAt);
  if (key !== null) writeText(out, p, key);
  return out;
}

export function writeTopicPushFrame(f: TopicPushFields): Uint8Array {
  checkCommon(f.messageId, f.priority, f.data);
  const topic = textBytes(f.topic);
  const size = 2 + textSize(topic) + uintSize(f.offset) + 17 + 1 + f.data.length + uintSize(f.sentAt);
  const out = new Uint8Array(size);
  out[0] = 0x87;
  out[1] = FrameType.TOPIC_PUSH;
  let p = writeText(out, 2, topic);
  p = writeUint(out, p, f.offset);
  writeEnd(out, p, f.messageId, f.priority, f.data, f.sentAt);
  return out;
}

/** messageId, priority, data and sentAt: the fields both frames end with, in this order. */
function writeEnd(out: Uint8Array, p: number, messageId: Uint8Array, priority: number, data: Uint8Array, sentAt: number): number {
  out[p++] = 0x50; // byte string of 16
  out.set(messageId, p);
  p += 16;
  out[p++] = priority;
  out.set(data, p);
  return writeUint(out, p + data.length, sentAt);
}

// The relay only ever passes fields it validated; a wrong one here is a bug to surface, not a frame to send.
function checkCommon(messageId: Uint8Array, priority: number, data: Uint8Array): void {
  if (messageId.length !== 16) throw new RangeError(`messageId has ${messageId.length} bytes, not 16`);
  if (priority !== 0 && priority !== 1 && priority !== 2) throw new RangeError(`priority ${priority} is not 0, 1 or 2`);
  if (data.length === 0) throw new RangeError("data holds no CBOR item");
}

function uintSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a uint`);
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : n < 0x1_0000_0000 ? 5 : 9;
}

function writeUint(out: Uint8Array, p: number, n: number): number {
  return writeHead(out, p, 0, n);
}

function writeHead(out: Uint8Array, p: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) out[p++] = m | n;
  else if (n < 0x100) {
    out[p++] = m | 24;
    out[p++] = n;
  } else if (n < 0x1_0000) {
    out[p++] = m | 25;
    out[p++] = n >> 8;
    out[p++] = n & 0xff;
  } else if (n < 0x1_0000_0000) {
    out[p++] = m | 26;
    p = writeUint32(out, p, n);
  } else {
    out[p++] = m | 27;
    p = writeUint32(out, p, Math.floor(n / 0x1_0000_0000));
    p = writeUint32(out, p, n >>> 0);
  }
  return p;
}

function writeUint32(out: Uint8Array, p: number, n: number): number {
  out[p] = n >>> 24;
  out[p + 1] = (n >>> 16) & 0xff;
  out[p + 2] = (n >>> 8) & 0xff;
  out[p + 3] = n & 0xff;
  return p + 4;
}

/** UTF-8 of short ASCII text without a TextEncoder call, which costs more than the copy. */
function textBytes(text: string): Uint8Array | string {
  if (text.length > 64) return utf8.encode(text);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return utf8.encode(text);
  return text;
}

function textSize(text: Uint8Array | string): number {
  const n = text.length;
  return n + (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : 5);
}

function writeText(out: Uint8Array, p: number, text: Uint8Array | string): number {
  p = writeHead(out, p, 3, text.length);
  if (typeof text !== "string") {
    out.set(text, p);
    return p + text.length;
  }
  for (let i = 0; i < text.length; i++) out[p + i] = text.charCodeAt(i);
  return p + text.length;
}
