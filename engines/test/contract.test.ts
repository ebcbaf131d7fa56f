// The engine and rate-limiter contracts against real Redis: over TCP (two RedisEngines, as a relay
// and a TCP edge would be) and over REST (a RestEngine through the Upstash bridge, with a
// RedisEngine as the subscribing relay). Each test gets its own redis-server.
import { engineContract } from "../engine.contract.ts";
import { rateLimiterContract } from "../rate-limiter.contract.ts";
import { RestEngine, RestRateLimiter } from "../rest.ts";
import { RedisEngine, RedisRateLimiter } from "../redis.ts";
import { startUpstashBridge } from "../../ops/upstash-bridge.ts";
import { startRedis } from "../../test-support/redis.ts";

const TOKEN = "contract-token";

engineContract("redis", async () => {
  const redis = await startRedis();
  const node = new RedisEngine({ url: redis.url });
  const edge = new RedisEngine({ url: redis.url });
  return {
    node,
    edge,
    async [Symbol.asyncDispose]() {
      await Promise.all([node.close(), edge.close()]);
      await redis[Symbol.asyncDispose]();
    },
  };
});

engineContract("rest", async () => {
  const redis = await startRedis();
  const bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const node = new RedisEngine({ url: redis.url });
  const edge = new RestEngine({ url: bridge.url, token: TOKEN });
  return {
    node,
    edge,
    async [Symbol.asyncDispose]() {
      await Promise.all([node.close(), edge.close()]);
      await bridge.stop();
      await redis[Symbol.asyncDispose]();
    },
  };
});

rateLimiterContract("redis", async () => {
  const redis = await startRedis();
  const limiter = new RedisRateLimiter({ url: redis.url });
  const peer = new RedisRateLimiter({ url: redis.url });
  return {
    limiter,
    peer,
    async [Symbol.asyncDispose]() {
      await Promise.all([limiter.close(), peer.close()]);
      await redis[Symbol.asyncDispose]();
    },
  };
});

rateLimiterContract("rest", async () => {
  const redis = await startRedis();
  const bridge = startUpstashBridge({ redisUrl: redis.url, token: TOKEN });
  const limiter = new RestRateLimiter({ url: bridge.url, token: TOKEN });
  const peer = new RedisRateLimiter({ url: redis.url });
  return {
    limiter,
    peer,
    async [Symbol.asyncDispose]() {
      await Promise.all([limiter.close(), peer.close()]);
      await bridge.stop();
      await redis[Symbol.asyncDispose]();
    },
  };
});
