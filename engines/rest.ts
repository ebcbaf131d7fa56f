// The edge's engine over Redis REST (@upstash/redis: fetch only, no sockets), for runtimes that
// allow no TCP. It reads and writes the same keys and channels as RedisEngine, so a publish here
// reaches a relay subscribed over TCP and presence a relay set is read here.
//
// Subscribing is impossible over request/response HTTP. RestEngine still implements Engine, so it
// fits the edge's dependencies unchanged, but `subscribe` and `onTopic` are typed `Promise<never>`
// and always reject with EngineUnsupported: a process that must receive signals (a relay) needs
// RedisEngine. Nothing here is silently skipped.
import { Redis } from "@upstash/redis";
import type { DeliverSignal, Engine, Presence, Signal, SignalHandler, TopicHandler, TopicSignal } from "../core/engine.ts";
import { EngineCommandRejected, EngineUnavailable, EngineUnsupported, redisErrorCode } from "./errors.ts";
import type { RateDecision, RateLimiter } from "../core/engine.ts";
import { RedisKeyspace } from "./redis-keyspace.ts";
import { type RedisCommandSender, RedisOperations } from "./redis-operations.ts";

export type RestEngineOptions = {
  /** The REST endpoint: UPSTASH_REDIS_REST_URL, or a local bridge's URL. */
  url: string;
  /** UPSTASH_REDIS_REST_TOKEN, or the bridge's token. */
  token: string;
  /** Must match the relays' RedisEngine prefix. Default "pm:". */
  prefix?: string;
  /** How long one request may take before it fails with EngineUnavailable. Default 2000. */
  timeoutMs?: number;
  /** Extra attempts after a network failure (not after an answer). Default 0: fail fast. */
  retries?: number;
  presenceTtlMs?: number;
};

/** Sends commands as REST requests; every failure becomes a named engine error. */
export class RestCommandSender implements RedisCommandSender {
  private readonly redis: Redis;
  private closed = false;

  constructor(options: Pick<RestEngineOptions, "url" | "token" | "timeoutMs" | "retries">) {
    const timeoutMs = options.timeoutMs ?? 2000;
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      // Replies arrive as Redis gives them; our payloads are decoded by redis-keyspace.ts, not guessed at.
      automaticDeserialization: false,
      // One request per call: a failure belongs to the call that caused it.
      enableAutoPipelining: false,
      enableTelemetry: false,
      retry: { retries: options.retries ?? 0 },
      signal: () => AbortSignal.timeout(timeoutMs),
    });
  }

  async send(command: string, args: string[]): Promise<unknown> {
    if (this.closed) throw new EngineUnavailable("redis rest: the engine is closed");
    try {
      return await this.redis.exec([command, ...args]);
    } catch (error) {
      throw restError(command, error);
    }
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * An error reply from Redis (HTTP 400, or an entry's error) starts with its code, "ERR …",
 * "NOSCRIPT …"; anything else (a timeout, a refused connection, 401, 5xx) is an outage.
 */
function restError(command: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  // @upstash/redis appends the whole command to HTTP errors; a payload does not belong in a log line.
  const reply = message.split(", command was: ")[0]!;
  const code = error instanceof Error && error.name === "UpstashError" ? redisErrorCode(reply) : null;
  if (code) return new EngineCommandRejected(reply, code, { cause: error });
  return new EngineUnavailable(`redis rest: ${command} failed: ${reply}`, { cause: error });
}

export class RestEngine implements Engine {
  private readonly sender: RestCommandSender;
  private readonly operations: RedisOperations;

  constructor(options: RestEngineOptions) {
    this.sender = new RestCommandSender(options);
    this.operations = new RedisOperations(this.sender, new RedisKeyspace(options.prefix), options.presenceTtlMs);
  }

  setPresence(key: string, presence: Presence): Promise<Presence | null> {
    return this.operations.setPresence(key, presence);
  }

  clearPresence(key: string, sessionId: string): Promise<void> {
    return this.operations.clearPresence(key, sessionId);
  }

  getPresence(keys: string[]): Promise<(Presence | null)[]> {
    return this.operations.getPresence(keys);
  }

  publish(nodeId: string, signals: Signal[]): Promise<void> {
    return this.operations.publish(nodeId, signals);
  }

  signalHolders(signals: DeliverSignal[]): Promise<boolean[]> {
    return this.operations.signalHolders(signals);
  }

  broadcast(signal: TopicSignal): Promise<void> {
    return this.operations.broadcast(signal);
  }

  async subscribe(_nodeId: string, _handler: SignalHandler): Promise<never> {
    throw new EngineUnsupported("Redis REST cannot subscribe: a process that receives signals needs RedisEngine (TCP)");
  }

  async onTopic(_handler: TopicHandler): Promise<never> {
    throw new EngineUnsupported("Redis REST cannot subscribe: a process that receives topic messages needs RedisEngine (TCP)");
  }

  async close(): Promise<void> {
    this.sender.close();
  }
}

/** The per-app rate limiter over REST: same keys and script as RedisRateLimiter, so budgets are shared. */
export class RestRateLimiter implements RateLimiter {
  private readonly sender: RestCommandSender;
  private readonly operations: RedisOperations;

  constructor(options: Pick<RestEngineOptions, "url" | "token" | "prefix" | "timeoutMs" | "retries">) {
    this.sender = new RestCommandSender(options);
    this.operations = new RedisOperations(this.sender, new RedisKeyspace(options.prefix));
  }

  take(key: string, cost: number, limit: number, windowMs: number, now = Date.now()): Promise<RateDecision> {
    return this.operations.take(key, cost, limit, windowMs, now);
  }

  async close(): Promise<void> {
    this.sender.close();
  }
}
