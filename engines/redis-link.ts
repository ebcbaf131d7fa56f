// One supervised connection to Redis over Bun's built-in client. Bun's own reconnection gives up
// after a number of tries and does not restore subscriptions, so this link owns the loop: it
// reconnects for as long as it lives, runs `onConnect` on every new connection (re-subscribing),
// and makes every command fail fast with EngineUnavailable while Redis is away or silent.
import { RedisClient } from "bun";
import { EngineCommandRejected, EngineUnavailable, redisErrorCode } from "./errors.ts";
import type { Log } from "../core/log.ts";

export type RedisLinkOptions = {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: string;
  /** Names the link in log lines. */
  name: string;
  log?: Log;
  /** How long one connection attempt may take. Default 2000. */
  connectTimeoutMs?: number;
  /** How long a command may wait for its answer; past it the command fails and the connection is replaced. Default 2000. */
  commandTimeoutMs?: number;
  /** Pause before the first reconnection attempt, doubled per failure up to retryMaxMs. Defaults 50 and 2000. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** When set, a PING this often proves an otherwise quiet connection (a subscriber's) still answers. */
  pingIntervalMs?: number;
  /** Runs on each new connection before it serves commands; a failure drops the connection and retries. */
  onConnect?: (client: RedisClient) => Promise<void>;
  /** Runs each time the link is up again after having been up before (not on the first connection). */
  onReconnect?: () => void;
  /** Runs when the link goes down (false; once per outage) and when it is up again after that (true). */
  onAvailability?: (up: boolean) => void;
};

export type RedisLinkState = "connecting" | "up" | "down" | "closed";

export class RedisLink {
  state: RedisLinkState = "connecting";
  private client: RedisClient | null = null;
  /** Settles when the first connection attempt does: until then callers wait rather than fail. */
  private firstAttempt: Promise<void>;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private failures = 0;
  /** When the link last went down; null while up (and before the first connection). */
  private downSince: number | null = null;
  private wasUp = false;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly log: Log;

  constructor(private readonly options: RedisLinkOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.log = options.log ?? (() => {});
    this.firstAttempt = this.connect();
  }

  /** The connected client; waits only for the very first attempt, otherwise fails at once while down. */
  async connected(): Promise<RedisClient> {
    if (this.state === "connecting" && this.client === null) await this.firstAttempt;
    if (this.state === "closed") throw new EngineUnavailable(`redis ${this.options.name}: the engine is closed`);
    if (this.state !== "up" || !this.client) throw new EngineUnavailable(`redis ${this.options.name}: not connected; reconnecting`);
    return this.client;
  }

  async send(command: string, args: string[]): Promise<unknown> {
    const client = await this.connected();
    return this.within(client, command, client.send(command, args));
  }

  /**
   * Bounds `pending` (work on `client`) by the command timeout. A Redis that does not answer in
   * time is treated as gone: the connection is replaced, which also fails everything queued on it.
   */
  async within<T>(client: RedisClient, what: string, pending: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new EngineUnavailable(`redis ${this.options.name}: ${what} got no answer within ${this.commandTimeoutMs} ms`));
        this.drop(client, "timeout");
      }, this.commandTimeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      throw classify(this.options.name, what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopPing();
    const client = this.client;
    this.client = null;
    client?.close();
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.state === "closed") return;
    this.state = "connecting";
    const client = new RedisClient(this.options.url, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: this.connectTimeoutMs,
    });
    let lost = false;
    client.onclose = () => {
      lost = true;
    };
    try {
      await client.connect();
      if (this.options.onConnect) await this.within(client, "connect hook", this.options.onConnect(client));
      if (lost) throw new Error("connection closed while it was being set up");
    } catch (error) {
      client.onclose = null;
      client.close();
      this.failed(error);
      return;
    }
    if ((this.state as RedisLinkState) === "closed") {
      client.onclose = null;
      client.close();
      return;
    }
    // From here on, the first close for any reason starts the next attempt.
    client.onclose = () => this.drop(client, "connection closed");
    this.client = client;
    this.state = "up";
    const wasDown = this.downSince !== null;
    if (this.downSince !== null) this.log("redis_link_up", { link: this.options.name, downMs: Date.now() - this.downSince });
    this.downSince = null;
    this.failures = 0;
    this.startPing(client);
    if (this.wasUp) this.options.onReconnect?.();
    this.wasUp = true;
    if (wasDown) this.options.onAvailability?.(true);
  }

  /** Replaces `client`: the current connection is forgotten and the next attempt scheduled. */
  private drop(client: RedisClient, reason: string): void {
    if (this.client !== client) {
      // Still being set up: closing it fails the setup, and connect() schedules the retry.
      client.close();
      return;
    }
    client.onclose = null;
    this.client = null;
    this.stopPing();
    client.close();
    if (this.state === "closed") return;
    this.markDown(reason);
    this.retryTimer = setTimeout(() => void this.connect(), 0);
  }

  private failed(error: unknown): void {
    if (this.state === "closed") return;
    this.failures++;
    this.markDown(String(error));
    const min = this.options.retryMinMs ?? 50;
    const max = this.options.retryMaxMs ?? 2000;
    // Full jitter, so a fleet of relays does not reconnect to a recovering Redis in lockstep.
    const ceiling = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
    this.retryTimer = setTimeout(() => void this.connect(), min + Math.random() * Math.max(0, ceiling - min));
  }

  private markDown(reason: string): void {
    this.state = "down";
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.log("redis_link_down", { link: this.options.name, reason });
    this.options.onAvailability?.(false);
  }

  private startPing(client: RedisClient): void {
    const every = this.options.pingIntervalMs;
    if (!every) return;
    this.pingTimer = setInterval(() => {
      this.within(client, "PING", client.send("PING", [])).catch(() => {
        // within() has already replaced the connection if PING went unanswered.
      });
    }, every);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}

/** Bun reports an error reply with code ERR_REDIS_SERVER_ERROR; anything else means the connection failed. */
export function classify(link: string, what: string, error: unknown): Error {
  if (error instanceof EngineUnavailable || error instanceof EngineCommandRejected) return error;
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: unknown })?.code === "ERR_REDIS_SERVER_ERROR") {
    return new EngineCommandRejected(message, redisErrorCode(message) ?? "ERR", { cause: error });
  }
  return new EngineUnavailable(`redis ${link}: ${what} failed: ${message}`, { cause: error });
}
