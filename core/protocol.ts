// The one wire definition of pushmesh. docs/protocol.md is its spec; keep the two in step.
//
// A frame is a CBOR array whose first element is the frame type and whose other elements are
// positional fields. Trailing fields marked optional may be left out. Every frame a peer decodes
// goes through `validateFrame` before any handler sees it.

export const PROTOCOL_VERSION = 1;

export const FrameType = {
  HELLO: 1,
  WELCOME: 2,
  PUSH: 3,
  ACK: 4,
  HEARTBEAT: 5,
  HEARTBEAT_ACK: 6,
  FETCH: 7,
  GOAWAY: 8,
  ERROR: 9,
  SUBSCRIBE: 10,
  UNSUBSCRIBE: 11,
  TOPIC_PUSH: 12,
  SUBSCRIBED: 13,
  UNSUBSCRIBED: 14,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
export type FrameName = keyof typeof FrameType;

export const FRAME_NAMES: Record<FrameType, FrameName> = Object.fromEntries(
  Object.entries(FrameType).map(([name, code]) => [code, name]),
) as Record<FrameType, FrameName>;

export const Priority = { high: 0, normal: 1, low: 2 } as const;
export type PriorityName = keyof typeof Priority;
export type PriorityCode = (typeof Priority)[PriorityName];
export const PRIORITY_NAMES: readonly PriorityName[] = ["high", "normal", "low"];

/**
 * Wire error codes. Each is also the WebSocket close code the server uses after sending it,
 * so every code sits in the 4000–4999 range the WebSocket RFC leaves to applications.
 */
export const WireError = {
  MALFORMED_FRAME: { code: 4000, reason: "the bytes are not one well-formed CBOR value" },
  FRAME_TOO_LARGE: { code: 4001, reason: "the frame or its length prefix exceeds the maximum frame size" },
  INVALID_FRAME: { code: 4002, reason: "a CBOR value of the wrong shape for its frame type" },
  UNKNOWN_FRAME_TYPE: { code: 4003, reason: "the first element names no frame type this peer accepts" },
  HELLO_REQUIRED: { code: 4004, reason: "the first frame on a connection must be HELLO" },
  UNSUPPORTED_VERSION: { code: 4005, reason: "the protocol version in HELLO is not spoken by this server" },
  TEXT_NOT_ACCEPTED: { code: 4006, reason: "WebSocket text messages are not part of the protocol" },
  FRAME_QUEUE_FULL: { code: 4007, reason: "more frames arrived than the server holds for a connection while it handles an earlier one" },
  TOKEN_INVALID: { code: 4010, reason: "the device token is malformed, forged or for another device" },
  TOKEN_EXPIRED: { code: 4011, reason: "the device token is past its expiry" },
  DEVICE_UNKNOWN: { code: 4012, reason: "the token is valid but the device no longer exists" },
  TOKEN_REVOKED: { code: 4013, reason: "the device's tokens issued up to a revocation no longer open sessions" },
  ACK_OUT_OF_RANGE: { code: 4020, reason: "an ACK names a sequence this connection never pushed" },
  TOPIC_INVALID: { code: 4021, reason: "a topic name is empty, too long or has characters outside [A-Za-z0-9._:-]" },
  TOO_MANY_TOPICS: { code: 4022, reason: "the connection is subscribed to as many topics as the server allows" },
  HEARTBEAT_TIMEOUT: { code: 4030, reason: "no frame arrived within the heartbeat deadline" },
  SESSION_REPLACED: { code: 4031, reason: "the same device opened a newer connection" },
  SLOW_CONSUMER: { code: 4032, reason: "the connection could not take its pushes as fast as they came" },
  SERVER_SHUTDOWN: { code: 4040, reason: "the node is shutting down; reconnect elsewhere" },
  OVERLOADED: { code: 4041, reason: "the node is at its hard capacity; use one of the alternatives" },
  NODE_DRAINING: { code: 4042, reason: "the node is draining for maintenance; use one of the alternatives" },
  HOME_ELSEWHERE: { code: 4044, reason: "the device's home is another region: use one of the alternatives there (a GOAWAY names them)" },
  RATE_LIMITED: { code: 4043, reason: "too many connections from this address; retry after the delay" },
  INTERNAL: { code: 4500, reason: "the server failed; the connection may be retried" },
} as const;
export type WireErrorName = keyof typeof WireError;

export const WIRE_ERROR_NAMES: ReadonlyMap<number, WireErrorName> = new Map(
  Object.entries(WireError).map(([name, { code }]) => [code, name as WireErrorName]),
);

/** A relay the device may use instead: [nodeId, ws URL, tcp "host:port"]. */
export type Alternative = [nodeId: string, ws: string, tcp: string];

export type HelloFrame = {
  type: typeof FrameType.HELLO;
  version: number;
  deviceId: string;
  token: string;
  /** Highest sequence the device has handed to its app; 0 for none. */
  lastSeq: number;
  /** Heartbeat interval the device wants, in seconds. */
  heartbeat: number;
  /** Device-side epoch it last saw in WELCOME; 0 when it has none. */
  epoch: number;
  /** Last offset the device holds per topic; the relay resumes each subscribed topic after it. */
  topics: Record<string, number>;
};
export type WelcomeFrame = {
  type: typeof FrameType.WELCOME;
  sessionId: string;
  nodeId: string;
  latestSeq: number;
  heartbeat: number;
  heartbeatMin: number;
  heartbeatMax: number;
  epoch: number;
};
export type PushFrame = {
  type: typeof FrameType.PUSH;
  seq: number;
  /** 16 bytes: the message's UUID. */
  messageId: Uint8Array;
  priority: PriorityCode;
  data: unknown;
  /** Milliseconds since the Unix epoch when the edge accepted the message. */
  sentAt: number;
  collapseKey: string | null;
};
export type AckFrame = { type: typeof FrameType.ACK; seq: number };
export type HeartbeatFrame = { type: typeof FrameType.HEARTBEAT; interval: number };
export type HeartbeatAckFrame = { type: typeof FrameType.HEARTBEAT_ACK; latestSeq: number };
export type FetchFrame = { type: typeof FrameType.FETCH; afterSeq: number };
export type GoawayFrame = {
  type: typeof FrameType.GOAWAY;
  /** A wire error code saying why, e.g. SERVER_SHUTDOWN. */
  reason: number;
  alternatives: Alternative[];
  retryAfterMs: number;
};
export type ErrorFrame = { type: typeof FrameType.ERROR; code: number; message: string };
/** Subscribes this device to a topic; `lastOffset` null means only messages from now on. */
export type SubscribeFrame = { type: typeof FrameType.SUBSCRIBE; topic: string; lastOffset: number | null };
export type UnsubscribeFrame = { type: typeof FrameType.UNSUBSCRIBE; topic: string };
/** The subscription is stored; this connection's TOPIC_PUSH frames for it carry offsets above `startOffset`. */
export type SubscribedFrame = { type: typeof FrameType.SUBSCRIBED; topic: string; startOffset: number };
/** The subscription is removed; no TOPIC_PUSH for the topic follows on this connection. */
export type UnsubscribedFrame = { type: typeof FrameType.UNSUBSCRIBED; topic: string };
export type TopicPushFrame = {
  type: typeof FrameType.TOPIC_PUSH;
  topic: string;
  offset: number;
  messageId: Uint8Array;
  priority: PriorityCode;
  data: unknown;
  sentAt: number;
};

export type Frame =
  | HelloFrame
  | WelcomeFrame
  | PushFrame
  | AckFrame
  | HeartbeatFrame
  | HeartbeatAckFrame
  | FetchFrame
  | GoawayFrame
  | ErrorFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | TopicPushFrame
  | SubscribedFrame
  | UnsubscribedFrame;

/** Frames a device sends; a relay rejects every other type with UNKNOWN_FRAME_TYPE. */
export const DEVICE_FRAMES: ReadonlySet<number> = new Set([FrameType.HELLO, FrameType.ACK, FrameType.HEARTBEAT, FrameType.FETCH, FrameType.SUBSCRIBE, FrameType.UNSUBSCRIBE]);
/** Frames a relay sends. */
export const SERVER_FRAMES: ReadonlySet<number> = new Set([
  FrameType.WELCOME,
  FrameType.PUSH,
  FrameType.HEARTBEAT_ACK,
  FrameType.GOAWAY,
  FrameType.ERROR,
  FrameType.TOPIC_PUSH,
  FrameType.SUBSCRIBED,
  FrameType.UNSUBSCRIBED,
]);

export class FrameError extends Error {
  constructor(
    readonly code: WireErrorName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FrameError";
  }
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length <= max;

function field<T>(arr: unknown[], index: number, name: string, ok: (v: unknown) => v is T, optional?: T): T {
  if (index >= arr.length && optional !== undefined) return optional;
  const value = arr[index];
  if (!ok(value)) throw new FrameError("INVALID_FRAME", `field ${index} (${name}) has the wrong type`);
  return value;
}

const uint = (v: unknown): v is number => isUint(v) && v <= MAX_SEQ;
const id = (v: unknown): v is string => isText(v, 256) && v.length > 0;
const token = (v: unknown): v is string => isText(v, 2048) && v.length > 0;
const text = (v: unknown): v is string => isText(v, 4096);
const bytes16 = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === 16;
const priority = (v: unknown): v is PriorityCode => v === 0 || v === 1 || v === 2;
const anything = (_v: unknown): _v is unknown => true;
const nullableText = (v: unknown): v is string | null => v === null || isText(v, 256);
export const TOPIC_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
// A text string that is no topic name is TOPIC_INVALID, wherever it stands; any other type is INVALID_FRAME.
function checkTopicName(name: string): void {
  if (!TOPIC_PATTERN.test(name)) throw new FrameError("TOPIC_INVALID", `topic ${JSON.stringify(name.slice(0, 140))} is not 1-128 of [A-Za-z0-9._:-]`);
}
const topicName = (v: unknown): v is string => {
  if (typeof v !== "string") return false;
  checkTopicName(v);
  return true;
};
const nullableUint = (v: unknown): v is number | null => v === null || uint(v);
const MAX_HELLO_TOPICS = 256;
/** HELLO.topics: the map's shape and values first (INVALID_FRAME), then its names (TOPIC_INVALID). */
const topicOffsets = (v: unknown): v is Record<string, number> => {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const entries = Object.entries(v);
  if (entries.length > MAX_HELLO_TOPICS || !entries.every(([, n]) => uint(n))) return false;
  for (const [name] of entries) checkTopicName(name);
  return true;
};
const alternatives = (v: unknown): v is Alternative[] =>
  Array.isArray(v) && v.length <= 64 && v.every((a) => Array.isArray(a) && a.length === 3 && a.every((s) => isText(s, 1024)));

/** Field count bounds per frame type: [required, maximum]. */
const ARITY: Record<FrameType, [number, number]> = {
  [FrameType.HELLO]: [5, 7],
  [FrameType.WELCOME]: [7, 7],
  [FrameType.PUSH]: [5, 6],
  [FrameType.ACK]: [1, 1],
  [FrameType.HEARTBEAT]: [1, 1],
  [FrameType.HEARTBEAT_ACK]: [1, 1],
  [FrameType.FETCH]: [1, 1],
  [FrameType.GOAWAY]: [3, 3],
  [FrameType.ERROR]: [2, 2],
  [FrameType.SUBSCRIBE]: [2, 2],
  [FrameType.UNSUBSCRIBE]: [1, 1],
  [FrameType.TOPIC_PUSH]: [6, 6],
  [FrameType.SUBSCRIBED]: [2, 2],
  [FrameType.UNSUBSCRIBED]: [1, 1],
};

/**
 * Turns a decoded CBOR value into a typed frame or throws FrameError.
 * `accept` limits the frame types this peer takes (a relay takes DEVICE_FRAMES).
 */
export function validateFrame(value: unknown, accept: ReadonlySet<number>): Frame {
  if (!Array.isArray(value) || value.length === 0) {
    throw new FrameError("INVALID_FRAME", "a frame is a non-empty CBOR array");
  }
  const type = value[0];
  if (typeof type !== "number" || !accept.has(type)) {
    throw new FrameError("UNKNOWN_FRAME_TYPE", `frame type ${String(type)} is not accepted here`);
  }
  const t = type as FrameType;
  const [min, max] = ARITY[t];
  const fields = value.length - 1;
  if (fields < min || fields > max) {
    throw new FrameError("INVALID_FRAME", `${FRAME_NAMES[t]} takes ${min}..${max} fields, got ${fields}`);
  }
  const f = value.slice(1);
  switch (t) {
    case FrameType.HELLO:
      return {
        type: t,
        version: field(f, 0, "version", uint),
        deviceId: field(f, 1, "deviceId", id),
        token: field(f, 2, "token", token),
        lastSeq: field(f, 3, "lastSeq", uint),
        heartbeat: field(f, 4, "heartbeat", uint),
        epoch: field(f, 5, "epoch", uint, 0),
        topics: field<Record<string, number>>(f, 6, "topics", topicOffsets, {}),
      };
    case FrameType.WELCOME:
      return {
        type: t,
        sessionId: field(f, 0, "sessionId", id),
        nodeId: field(f, 1, "nodeId", id),
        latestSeq: field(f, 2, "latestSeq", uint),
        heartbeat: field(f, 3, "heartbeat", uint),
        heartbeatMin: field(f, 4, "heartbeatMin", uint),
        heartbeatMax: field(f, 5, "heartbeatMax", uint),
        epoch: field(f, 6, "epoch", uint),
      };
    case FrameType.PUSH:
      return {
        type: t,
        seq: field(f, 0, "seq", uint),
        messageId: field(f, 1, "messageId", bytes16),
        priority: field(f, 2, "priority", priority),
        data: field(f, 3, "data", anything),
        sentAt: field(f, 4, "sentAt", uint),
        collapseKey: field<string | null>(f, 5, "collapseKey", nullableText, null),
      };
    case FrameType.ACK:
      return { type: t, seq: field(f, 0, "seq", uint) };
    case FrameType.HEARTBEAT:
      return { type: t, interval: field(f, 0, "interval", uint) };
    case FrameType.HEARTBEAT_ACK:
      return { type: t, latestSeq: field(f, 0, "latestSeq", uint) };
    case FrameType.FETCH:
      return { type: t, afterSeq: field(f, 0, "afterSeq", uint) };
    case FrameType.GOAWAY:
      return {
        type: t,
        reason: field(f, 0, "reason", uint),
        alternatives: field(f, 1, "alternatives", alternatives),
        retryAfterMs: field(f, 2, "retryAfterMs", uint),
      };
    case FrameType.ERROR:
      return { type: t, code: field(f, 0, "code", uint), message: field(f, 1, "message", text) };
    case FrameType.SUBSCRIBE:
      return { type: t, topic: field(f, 0, "topic", topicName), lastOffset: field(f, 1, "lastOffset", nullableUint) };
    case FrameType.UNSUBSCRIBE:
      return { type: t, topic: field(f, 0, "topic", topicName) };
    case FrameType.TOPIC_PUSH:
      return {
        type: t,
        topic: field(f, 0, "topic", topicName),
        offset: field(f, 1, "offset", uint),
        messageId: field(f, 2, "messageId", bytes16),
        priority: field(f, 3, "priority", priority),
        data: field(f, 4, "data", anything),
        sentAt: field(f, 5, "sentAt", uint),
      };
    case FrameType.SUBSCRIBED:
      return { type: t, topic: field(f, 0, "topic", topicName), startOffset: field(f, 1, "startOffset", uint) };
    case FrameType.UNSUBSCRIBED:
      return { type: t, topic: field(f, 0, "topic", topicName) };
  }
}

/** The positional array for a frame, in the field order `validateFrame` reads. */
export function frameToArray(frame: Frame): unknown[] {
  switch (frame.type) {
    case FrameType.HELLO: {
      const a: unknown[] = [frame.type, frame.version, frame.deviceId, frame.token, frame.lastSeq, frame.heartbeat, frame.epoch];
      if (Object.keys(frame.topics).length > 0) a.push(frame.topics);
      return a;
    }
    case FrameType.WELCOME:
      return [frame.type, frame.sessionId, frame.nodeId, frame.latestSeq, frame.heartbeat, frame.heartbeatMin, frame.heartbeatMax, frame.epoch];
    case FrameType.PUSH: {
      const a: unknown[] = [frame.type, frame.seq, frame.messageId, frame.priority, frame.data, frame.sentAt];
      if (frame.collapseKey !== null) a.push(frame.collapseKey);
      return a;
    }
    case FrameType.ACK:
      return [frame.type, frame.seq];
    case FrameType.HEARTBEAT:
      return [frame.type, frame.interval];
    case FrameType.HEARTBEAT_ACK:
      return [frame.type, frame.latestSeq];
    case FrameType.FETCH:
      return [frame.type, frame.afterSeq];
    case FrameType.GOAWAY:
      return [frame.type, frame.reason, frame.alternatives, frame.retryAfterMs];
    case FrameType.ERROR:
      return [frame.type, frame.code, frame.message];
    case FrameType.SUBSCRIBE:
      return [frame.type, frame.topic, frame.lastOffset];
    case FrameType.UNSUBSCRIBE:
      return [frame.type, frame.topic];
    case FrameType.TOPIC_PUSH:
      return [frame.type, frame.topic, frame.offset, frame.messageId, frame.priority, frame.data, frame.sentAt];
    case FrameType.SUBSCRIBED:
      return [frame.type, frame.topic, frame.startOffset];
    case FrameType.UNSUBSCRIBED:
      return [frame.type, frame.topic];
  }
}

/** UUID text form <-> the 16 bytes carried in PUSH. */
const HEX: Record<string, number> = Object.fromEntries(
  [..."0123456789abcdef"].flatMap((c, i) => [[c, i], [c.toUpperCase(), i]]),
);

export function uuidToBytes(uuid: string): Uint8Array {
  const out = new Uint8Array(16);
  let j = 0;
  for (let i = 0; i < uuid.length && j < 32; i++) {
    const c = uuid[i]!;
    if (c === "-" && (i === 8 || i === 13 || i === 18 || i === 23)) continue;
    const v = HEX[c];
    if (v === undefined) break;
    out[j >> 1]! |= (j & 1) === 0 ? v << 4 : v;
    j++;
  }
  if (j !== 32 || uuid.length !== 36) throw new FrameError("INVALID_FRAME", `not a UUID: ${uuid}`);
  return out;
}

export function bytesToUuid(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
