// What every Redis-backed engine (TCP in relay/, REST in core/) agrees on: key and channel names,
// the Lua scripts, and how presence and signals are written. Both sides of a cluster must read what
// the other wrote, so this is the one definition.
//
// Payloads are JSON text: Bun's Redis client hands pub/sub messages over as strings only. A
// message's body is the CBOR the relay pushes (encoded once at the edge), carried as base64.
import type { PriorityCode } from "../core/protocol.ts";
import type { Presence, Signal, SignalledMessage, TopicSignal } from "../core/engine.ts";

/** Every key and channel begins with the prefix, so several clusters (or tests) can share one Redis. */
export const DEFAULT_PREFIX = "pm:";

/**
 * Presence entries expire after a day unless refreshed, so a crashed node's devices do not point at
 * it forever. A live node refreshes the entries it holds well before then (see PRESENCE_SCRIPT).
 */
export const DEFAULT_PRESENCE_TTL_MS = 24 * 60 * 60 * 1000;

export class RedisKeyspace {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}

  /** `pm:presence:<appId>/<deviceId>` → `<nodeId> <sessionId>` */
  presence(deviceKey: string): string {
    return `${this.prefix}presence:${deviceKey}`;
  }

  /** The channel a node's signals travel on. */
  node(nodeId: string): string {
    return `${this.nodePrefix}${nodeId}`;
  }

  get nodePrefix(): string {
    return `${this.prefix}node:`;
  }

  /** The one channel topic messages travel on; every node listens. */
  get topics(): string {
    return `${this.prefix}topics`;
  }

  /** One counter per key and fixed window: `pm:rate:<key>:<windowMs>:<windowStart>`. */
  rate(key: string, windowMs: number, windowStart: number): string {
    return `${this.prefix}rate:${key}:${windowMs}:${windowStart}`;
  }
}

/** Forgets a presence only while it still names the closing session (ARGV[1]). */
export const CLEAR_PRESENCE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local space = string.find(current, ' [^ ]*$')
  if space and string.sub(current, space + 1) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0`;

/**
 * Refreshes the presences a node holds (KEYS, with the values it wrote in ARGV[2..]): extends an
 * entry that still holds its value, and writes back one that is gone (Redis restarted empty, or
 * the TTL ran out) so signals reach the node again. An entry another node took is left alone.
 */
/**
 * KEYS: presence keys; ARGV[1]: the node channel prefix; ARGV[1 + i]: the batch for KEYS[i]'s
 * holder. Publishes each batch to its device's node; answers 1 per held device, 0 otherwise.
 */
export const SIGNAL_HOLDERS_SCRIPT = `
local held = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  local node = value and string.match(value, '^(.*) [^ ]+$')
  if node then
    redis.call('PUBLISH', ARGV[1] .. node, ARGV[i + 1])
    held[i] = 1
  else
    held[i] = 0
  end
end
return held`;

export const PRESENCE_SCRIPT = `
local ttl = ARGV[1]
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if not current then
    redis.call('SET', key, ARGV[i + 1], 'PX', ttl)
  elseif current == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ttl)
  end
end
return #KEYS`;

/**
 * Takes ARGV[1] from the window counter KEYS[1] if that stays within the limit ARGV[2]; a refused
 * take changes nothing. The counter expires ARGV[3] ms after its first take. Returns {allowed, used}.
 */
export const TAKE_RATE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], cost)
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, used}`;

export function encodePresence(presence: Presence): string {
  return `${presence.nodeId} ${presence.sessionId}`;
}

/** Session ids never hold a space; node ids might, so the last space separates them. */
export function decodePresence(value: unknown): Presence | null {
  if (typeof value !== "string") return null;
  const space = value.lastIndexOf(" ");
  if (space <= 0 || space === value.length - 1) return null;
  return { nodeId: value.slice(0, space), sessionId: value.slice(space + 1) };
}

/** Raised when a payload on a channel is not one this version writes; the message is dropped. */
export class SignalFormatError extends Error {
  override readonly name = "SignalFormatError";
}

/** 2: bodies are base64 CBOR (1 carried them as JSON values). A node drops a batch of another version; the store still has it. */
const FORMAT_VERSION = 2;
const DELIVER = 0;
const KICK = 1;
const SUBSCRIPTION = 2;
const ERASED = 3;
const REVOKED = 4;

type MessageFields = Omit<SignalledMessage, "seq">;
/** [messageId, priority, createdAt, expiresAt, collapseKey, data as base64] */
type WireMessage = [string, PriorityCode, number, number | null, string | null, string];
/**
 * [DELIVER, appId, deviceId, seq, index into the batch's messages], [KICK, appId, deviceId, sessionId]
 * [SUBSCRIPTION, appId, deviceId, topic, startOffset or null], [ERASED, appId, deviceId] or [REVOKED, appId, deviceId, revokedAt]
 */
type WireSignal =
  | [typeof DELIVER, string, string, number, number]
  | [typeof KICK, string, string, string]
  | [typeof SUBSCRIPTION, string, string, string, number | null]
  | [typeof ERASED, string, string]
  | [typeof REVOKED, string, string, number];

/**
 * A node's batch: `[2, messages, signals]`. A send to many devices on one node carries its data
 * once, however many devices it targets: deliver signals point into `messages` by index. Signals
 * share an entry only when they carry the very same message (the send path spreads one message,
 * `data` included, into every device's signal); anything else gets its own.
 */
export function encodeSignals(signals: Signal[]): string {
  const messages: WireMessage[] = [];
  const byId = new Map<string, { fields: MessageFields; index: number }[]>();
  const wire: WireSignal[] = signals.map((signal) => {
    if (signal.kind === "kick") return [KICK, signal.appId, signal.deviceId, signal.sessionId];
    if (signal.kind === "erased") return [ERASED, signal.appId, signal.deviceId];
    if (signal.kind === "revoked") return [REVOKED, signal.appId, signal.deviceId, signal.revokedAt];
    if (signal.kind === "subscription") return [SUBSCRIPTION, signal.appId, signal.deviceId, signal.topic, signal.startOffset];
    const m = signal.message;
    let seen = byId.get(m.messageId);
    if (!seen) byId.set(m.messageId, (seen = []));
    let entry = seen.find((e) => sameMessage(e.fields, m));
    if (!entry) {
      entry = { fields: m, index: messages.push([m.messageId, m.priority, m.createdAt, m.expiresAt, m.collapseKey, m.data.toBase64()]) - 1 };
      seen.push(entry);
    }
    return [DELIVER, signal.appId, signal.deviceId, m.seq, entry.index];
  });
  return JSON.stringify([FORMAT_VERSION, messages, wire]);
}

const sameMessage = (a: MessageFields, b: MessageFields): boolean =>
  a.data === b.data && a.priority === b.priority && a.createdAt === b.createdAt && a.expiresAt === b.expiresAt && a.collapseKey === b.collapseKey;

export function decodeSignals(text: string): Signal[] {
  const batch = parse(text);
  if (!Array.isArray(batch) || batch.length !== 3 || batch[0] !== FORMAT_VERSION) throw new SignalFormatError(`not a version ${FORMAT_VERSION} signal batch`);
  const [, rawMessages, rawSignals] = batch as [number, unknown, unknown];
  if (!Array.isArray(rawMessages) || !Array.isArray(rawSignals)) throw new SignalFormatError("batch without messages and signals");
  const messages = rawMessages.map(decodeMessage);
  return rawSignals.map((s): Signal => {
    if (!Array.isArray(s)) throw new SignalFormatError("signal is not an array");
    if (s[0] === KICK && s.length === 4 && isText(s[1]) && isText(s[2]) && isText(s[3])) {
      return { kind: "kick", appId: s[1], deviceId: s[2], sessionId: s[3] };
    }
    if (s[0] === DELIVER && s.length === 5 && isText(s[1]) && isText(s[2]) && isCount(s[3]) && isCount(s[4])) {
      const message = messages[s[4]];
      if (!message) throw new SignalFormatError(`signal points at message ${s[4]} of ${messages.length}`);
      return { kind: "deliver", appId: s[1], deviceId: s[2], message: { ...message, seq: s[3] } };
    }
    if (s[0] === ERASED && s.length === 3 && isText(s[1]) && isText(s[2])) return { kind: "erased", appId: s[1], deviceId: s[2] };
    if (s[0] === REVOKED && s.length === 4 && isText(s[1]) && isText(s[2]) && isCount(s[3])) return { kind: "revoked", appId: s[1], deviceId: s[2], revokedAt: s[3] };
    if (s[0] === SUBSCRIPTION && s.length === 5 && isText(s[1]) && isText(s[2]) && isText(s[3]) && (s[4] === null || isCount(s[4]))) {
      return { kind: "subscription", appId: s[1], deviceId: s[2], topic: s[3], startOffset: s[4] };
    }
    throw new SignalFormatError("unknown signal shape");
  });
}

/** `[2, appId, topic, offset, messageId, priority, createdAt, data as base64]` */
export function encodeTopicSignal(signal: TopicSignal): string {
  const m = signal.message;
  return JSON.stringify([FORMAT_VERSION, signal.appId, signal.topic, signal.offset, m.messageId, m.priority, m.createdAt, m.data.toBase64()]);
}

export function decodeTopicSignal(text: string): TopicSignal {
  const t = parse(text);
  if (!Array.isArray(t) || t.length !== 8 || t[0] !== FORMAT_VERSION) throw new SignalFormatError(`not a version ${FORMAT_VERSION} topic signal`);
  const [, appId, topic, offset, messageId, priority, createdAt, data] = t as unknown[];
  if (!isText(appId) || !isText(topic) || !isCount(offset) || !isText(messageId) || !isPriority(priority) || !isCount(createdAt)) {
    throw new SignalFormatError("topic signal fields have the wrong types");
  }
  return { appId, topic, offset, message: { messageId, priority, createdAt, data: body(data) } };
}

function decodeMessage(m: unknown): MessageFields {
  if (!Array.isArray(m) || m.length !== 6) throw new SignalFormatError("message is not a 6-field array");
  const [messageId, priority, createdAt, expiresAt, collapseKey, data] = m as unknown[];
  if (!isText(messageId) || !isPriority(priority) || !isCount(createdAt)) throw new SignalFormatError("message fields have the wrong types");
  if (expiresAt !== null && !isCount(expiresAt)) throw new SignalFormatError("expiresAt is neither null nor a time");
  if (collapseKey !== null && typeof collapseKey !== "string") throw new SignalFormatError("collapseKey is neither null nor text");
  return { messageId, priority, createdAt, expiresAt, collapseKey, data: body(data) };
}

function body(data: unknown): Uint8Array {
  if (typeof data !== "string") throw new SignalFormatError("data is not base64 text");
  try {
    return Uint8Array.fromBase64(data);
  } catch (cause) {
    throw new SignalFormatError("data is not base64", { cause });
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new SignalFormatError("payload is not JSON", { cause });
  }
}

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isPriority = (v: unknown): v is PriorityCode => v === 0 || v === 1 || v === 2;
