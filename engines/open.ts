// The engine a process uses, by configuration: memory (one process), Redis over TCP (relays and
// edges that may open sockets), or Upstash-style REST (an edge where no TCP is allowed). Rate
// limits on a shared engine fail open: with Redis away, sends are still taken.
import type { Config } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import { FailOpenRateLimiter } from "./fail-open-limiter.ts";
import { MemoryEngine, MemoryRateLimiter } from "./memory.ts";
import type { RateLimiter } from "../core/engine.ts";
import { RestEngine, RestRateLimiter } from "./rest.ts";
import type { Log } from "../core/log.ts";
import { RedisEngine, RedisRateLimiter } from "./redis.ts";

export type OpenedEngine = { engine: Engine; limiter: RateLimiter; close(): Promise<void> };

function need(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`--engine needs --${flag}`);
  return value;
}

export async function openEngine(config: Config, log: Log): Promise<OpenedEngine> {
  let engine: Engine;
  let limiter: RateLimiter;
  switch (config.engine) {
    case "memory":
      engine = new MemoryEngine();
      limiter = new MemoryRateLimiter();
      break;
    case "redis": {
      const url = need(config.redisUrl, "redis-url");
      engine = new RedisEngine({ url, log });
      limiter = new FailOpenRateLimiter(new RedisRateLimiter({ url, log }), log);
      break;
    }
    case "rest": {
      const options = { url: need(config.restUrl, "rest-url"), token: need(config.restToken, "rest-token") };
      engine = new RestEngine(options);
      limiter = new FailOpenRateLimiter(new RestRateLimiter(options), log);
      break;
    }
  }
  return {
    engine,
    limiter,
    async close() {
      await limiter.close();
      await engine.close();
    },
  };
}
