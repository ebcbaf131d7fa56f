// The engine on Redis over TCP (Bun's built-in client), for relays and any edge that may open
// sockets. Presence lives in one key per device; signals travel on one pub/sub channel per node and
// topic messages on one channel every node listens to. Commands and subscriptions use separate
// connections, as Redis requires. While Redis is away every call fails fast with EngineUnavailable;
// subscriptions come back by themselves when it returns, and this node's presences are written back.
import type { RedisClient } from "bun";
import type { DeliverSignal, Engine, Presence, Signal, SignalHandler, TopicHandler, TopicSignal } from "../core/engine.ts";
import { type RateDecision, type RateLimiter } from "../core/engine.ts";
import { DEFAULT_PRESENCE_TTL_MS, decodeSignals, decodeTopicSignal, RedisKeyspace } from "./redis-keyspace.ts";
import { RedisOperations } from "./redis-operations.ts";
import type { Log } from "../core/log.ts";
import { RedisLink, type RedisLinkOptions } from "./redis-link.ts";

export type RedisEngineOptions = {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: string;
  /** Prepended to every key and channel; processes of one cluster must agree on it. Default "pm:". */
  prefix?: string;
  /** How long a presence entry outlives its last refresh. Default 24 h. */
  presenceTtlMs?: number;
  /** How often this node refreshes the presences it holds. Default a third of the TTL. */
  presenceRefreshMs?: number;
  /** How often the subscriber connection PINGs to prove it still hears Redis. Default 5000. */
  pingIntervalMs?: number;
  log?: Log;
} & Pick<RedisLinkOptions, "connectTimeoutMs" | "commandTimeoutMs" | "retryMinMs" | "retryMaxMs">;

export class RedisEngine implements Engine {
  private readonly log: Log;
  private readonly commands: RedisLink;
  private subscriber: RedisLink | null = null;
  private readonly operations: RedisOperations;
  private readonly keys: RedisKeyspace;
  /** Handlers by channel: what the subscriber connection listens to, restored on every reconnect. */
  private readonly channels = new Map<string, Set<(text: string) => void>>();
  /** Channels subscribed on the current subscriber connection. */
  private subscribedOn: { client: RedisClient; channels: Set<string> } | null = null;
  /** Presences this node wrote and has not cleared: refreshed, and written back after Redis loses them. */
  private readonly held = new Map<string, Presence>();
  private readonly refreshTimer: ReturnType<typeof setInterval>;
  /** Links known to be down, by name; the engine is available while there is none. */
  private readonly linksDown = new Set<string>();
  private readonly availabilityHandlers = new Set<(available: boolean) => void>();

  constructor(private readonly options: RedisEngineOptions) {
    this.log = options.log ?? (() => {});
    this.keys = new RedisKeyspace(options.prefix);
    const presenceTtlMs = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.commands = new RedisLink({
      ...this.linkOptions("commands"),
      // A reconnect may follow a Redis restart that lost every key: put this node's devices back.
      onReconnect: () => void this.refreshPresence(),
    });
    this.operations = new RedisOperations(this.commands, this.keys, presenceTtlMs);
    this.refreshTimer = setInterval(() => void this.refreshPresence(), options.presenceRefreshMs ?? presenceTtlMs / 3);
  }

  async setPresence(key: string, presence: Presence): Promise<Presence | null> {
    // Held before the write, so a write lost to an outage is made once Redis is back.
    this.held.set(key, presence);
    return this.operations.setPresence(key, presence);
  }

  async clearPresence(key: string, sessionId: string): Promise<void> {
    if (this.held.get(key)?.sessionId === sessionId) this.held.delete(key);
    await this.operations.clearPresence(key, sessionId);
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

  subscribe(nodeId: string, handler: SignalHandler): Promise<() => Promise<void>> {
    return this.listen(this.keys.node(nodeId), (text) => {
      for (const signal of decodeSignals(text)) handler(signal);
    });
  }

  onTopic(handler: TopicHandler): Promise<() => Promise<void>> {
    return this.listen(this.keys.topics, (text) => handler(decodeTopicSignal(text)));
  }

  watchAvailability(handler: (available: boolean) => void): () => void {
    this.availabilityHandlers.add(handler);
    handler(this.linksDown.size === 0);
    return () => void this.availabilityHandlers.delete(handler);
  }

  /** Writes every held presence again (extending it, or restoring it if Redis lost it). */
  async refreshPresence(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.operations.refreshPresence(this.held);
    } catch (error) {
      this.log("presence_refresh_failed", { held: this.held.size, error: String(error) });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.commands.close();
    this.subscriber?.close();
    this.channels.clear();
    this.held.clear();
    this.availabilityHandlers.clear();
  }

  /**
   * Adds `handler` for `channel`, subscribing on the subscriber connection if it is the channel's
   * first. Fails fast, having added nothing, while Redis is away. The returned function removes
   * the handler at once; unsubscribing in Redis is best effort, since a message for a channel
   * without handlers is dropped anyway.
   */
  private async listen(channel: string, handler: (text: string) => void): Promise<() => Promise<void>> {
    const link = (this.subscriber ??= new RedisLink({
      ...this.linkOptions("subscriber"),
      pingIntervalMs: this.options.pingIntervalMs ?? 5000,
      onConnect: (client) => this.resubscribe(client),
    }));
    const client = await link.connected();
    let handlers = this.channels.get(channel);
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
    try {
      await link.within(client, "SUBSCRIBE", this.ensureSubscribed(client, channel));
    } catch (error) {
      this.remove(channel, handler);
      throw error;
    }
    return async () => {
      if (!this.remove(channel, handler)) return;
      const current = this.subscribedOn;
      if (!current?.channels.delete(channel)) return;
      try {
        await current.client.unsubscribe(channel);
      } catch {
        // The connection is gone; its replacement will not subscribe to a channel without handlers.
      }
    };
  }

  /** Removes a handler; true when it was the channel's last. */
  private remove(channel: string, handler: (text: string) => void): boolean {
    const handlers = this.channels.get(channel);
    if (!handlers?.delete(handler) || handlers.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  private async resubscribe(client: RedisClient): Promise<void> {
    this.subscribedOn = { client, channels: new Set() };
    await Promise.all([...this.channels.keys()].map((channel) => this.ensureSubscribed(client, channel)));
  }

  /** One SUBSCRIBE per channel and connection, however many handlers and reconnects race for it. */
  private async ensureSubscribed(client: RedisClient, channel: string): Promise<void> {
    if (this.subscribedOn?.client !== client) this.subscribedOn = { client, channels: new Set() };
    const { channels } = this.subscribedOn;
    if (channels.has(channel)) return;
    channels.add(channel);
    try {
      await client.subscribe(channel, (message) => this.dispatch(channel, message));
    } catch (error) {
      channels.delete(channel);
      throw error;
    }
  }

  /** Each handler decodes the payload; a bad one is logged and dropped, never thrown into Bun's client. */
  private dispatch(channel: string, text: string): void {
    for (const handler of this.channels.get(channel) ?? []) {
      try {
        handler(text);
      } catch (error) {
        this.log("engine_message_dropped", { channel, error: String(error) });
      }
    }
  }

  private linkOptions(name: string): RedisLinkOptions {
    const { url, log, connectTimeoutMs, commandTimeoutMs, retryMinMs, retryMaxMs } = this.options;
    const onAvailability = (up: boolean) => this.linkAvailability(name, up);
    return { url, name, log, connectTimeoutMs, commandTimeoutMs, retryMinMs, retryMaxMs, onAvailability };
  }

  /** Either link down makes the engine unavailable: commands fail, or signals go unheard. */
  private linkAvailability(name: string, up: boolean): void {
    const before = this.linksDown.size === 0;
    if (up) this.linksDown.delete(name);
    else this.linksDown.add(name);
    const after = this.linksDown.size === 0;
    if (after === before) return;
    for (const handler of this.availabilityHandlers) handler(after);
  }
}

/** Per-key budgets shared by every process on the same Redis: `take` is one atomic script call. */
export class RedisRateLimiter implements RateLimiter {
  private readonly link: RedisLink;
  private readonly operations: RedisOperations;

  constructor(options: Pick<RedisEngineOptions, "url" | "prefix" | "log" | "connectTimeoutMs" | "commandTimeoutMs" | "retryMinMs" | "retryMaxMs">) {
    this.link = new RedisLink({ ...options, name: "rate-limiter" });
    this.operations = new RedisOperations(this.link, new RedisKeyspace(options.prefix));
  }

  take(key: string, cost: number, limit: number, windowMs: number, now = Date.now()): Promise<RateDecision> {
    return this.operations.take(key, cost, limit, windowMs, now);
  }

  async close(): Promise<void> {
    this.link.close();
  }
}
