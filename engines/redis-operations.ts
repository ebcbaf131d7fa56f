// The engine's commands on Redis, written once over whatever carries them: Bun's TCP client in a
// relay, Upstash's REST client at an edge. Subscribing is the transport's own business.
import { type DeliverSignal, deviceKey, type Presence, type Signal, type TopicSignal } from "../core/engine.ts";
import { EngineCommandRejected } from "./errors.ts";
import type { RateDecision } from "../core/engine.ts";
import {
  CLEAR_PRESENCE_SCRIPT,
  DEFAULT_PRESENCE_TTL_MS,
  decodePresence,
  encodePresence,
  encodeSignals,
  encodeTopicSignal,
  PRESENCE_SCRIPT,
  SIGNAL_HOLDERS_SCRIPT,
  RedisKeyspace,
  TAKE_RATE_SCRIPT,
} from "./redis-keyspace.ts";

/**
 * Sends one Redis command and resolves with its reply (strings, integers, null, arrays). Fails
 * with EngineUnavailable when Redis cannot be reached in time, EngineCommandRejected on an error reply.
 */
export interface RedisCommandSender {
  send(command: string, args: string[]): Promise<unknown>;
}

/** Presence keys refreshed per script call: bounded so one call never blocks Redis for long. */
const PRESENCE_BATCH = 500;

export class RedisOperations {
  private readonly scripts = new Map<string, Promise<string>>();

  constructor(
    private readonly redis: RedisCommandSender,
    readonly keys: RedisKeyspace,
    private readonly presenceTtlMs: number = DEFAULT_PRESENCE_TTL_MS,
  ) {}

  async setPresence(key: string, presence: Presence): Promise<Presence | null> {
    const previous = await this.redis.send("SET", [this.keys.presence(key), encodePresence(presence), "GET", "PX", String(this.presenceTtlMs)]);
    return decodePresence(previous);
  }

  async clearPresence(key: string, sessionId: string): Promise<void> {
    await this.script(CLEAR_PRESENCE_SCRIPT, [this.keys.presence(key)], [sessionId]);
  }

  async getPresence(keys: string[]): Promise<(Presence | null)[]> {
    // MGET with no keys is a syntax error in Redis, not an empty answer.
    if (keys.length === 0) return [];
    const values = await this.redis.send("MGET", keys.map((k) => this.keys.presence(k)));
    if (!Array.isArray(values) || values.length !== keys.length) {
      throw new EngineCommandRejected(`MGET answered ${describe(values)} for ${keys.length} keys`, "ERR");
    }
    return values.map(decodePresence);
  }

  /** Extends (or writes back) the presences this node holds: `held` maps device key → presence. */
  async refreshPresence(held: ReadonlyMap<string, Presence>): Promise<void> {
    const entries = [...held];
    for (let i = 0; i < entries.length; i += PRESENCE_BATCH) {
      const batch = entries.slice(i, i + PRESENCE_BATCH);
      await this.script(
        PRESENCE_SCRIPT,
        batch.map(([key]) => this.keys.presence(key)),
        [String(this.presenceTtlMs), ...batch.map(([, presence]) => encodePresence(presence))],
      );
    }
  }

  async publish(nodeId: string, signals: Signal[]): Promise<void> {
    if (signals.length === 0) return;
    await this.redis.send("PUBLISH", [this.keys.node(nodeId), encodeSignals(signals)]);
  }

  async signalHolders(signals: DeliverSignal[]): Promise<boolean[]> {
    if (signals.length === 0) return [];
    const keys = signals.map((s) => this.keys.presence(deviceKey(s.appId, s.deviceId)));
    const reply = await this.script(SIGNAL_HOLDERS_SCRIPT, keys, [this.keys.nodePrefix, ...signals.map((s) => encodeSignals([s]))]);
    if (!Array.isArray(reply) || reply.length !== signals.length) {
      throw new EngineCommandRejected(`the signal script answered ${describe(reply)} for ${signals.length} devices`, "ERR");
    }
    return reply.map((held) => Number(held) === 1);
  }

  async broadcast(signal: TopicSignal): Promise<void> {
    await this.redis.send("PUBLISH", [this.keys.topics, encodeTopicSignal(signal)]);
  }

  /** Windows are aligned to multiples of `windowMs` since the epoch, so every process counts in the same key. */
  async take(key: string, cost: number, limit: number, windowMs: number, now: number): Promise<RateDecision> {
    const start = now - (now % windowMs);
    const untilEnd = start + windowMs - now;
    // A second beyond the window's end leaves room for clocks that disagree a little.
    const ttl = untilEnd + 1000;
    const reply = await this.script(TAKE_RATE_SCRIPT, [this.keys.rate(key, windowMs, start)], [String(cost), String(limit), String(ttl)]);
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new EngineCommandRejected(`rate script answered ${describe(reply)}`, "ERR");
    }
    const [allowed, used] = reply as [number, number];
    if (allowed === 1) return { allowed: true, remaining: limit - used, retryAfterMs: 0 };
    return { allowed: false, remaining: Math.max(0, limit - used), retryAfterMs: untilEnd };
  }

  /** EVALSHA, falling back to EVAL once when Redis does not know the script (first use, or after a restart). */
  private async script(source: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = await this.sha(source);
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.redis.send("EVALSHA", [sha, ...rest]);
    } catch (error) {
      if (!(error instanceof EngineCommandRejected) || error.code !== "NOSCRIPT") throw error;
      return await this.redis.send("EVAL", [source, ...rest]);
    }
  }

  private sha(source: string): Promise<string> {
    let sha = this.scripts.get(source);
    if (!sha) {
      sha = sha1Hex(source);
      this.scripts.set(source, sha);
    }
    return sha;
  }
}

async function sha1Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
