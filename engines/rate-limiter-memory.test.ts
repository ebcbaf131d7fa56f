import { rateLimiterContract } from "./rate-limiter.contract.ts";
import { MemoryRateLimiter } from "./rate-limiter-memory.ts";

rateLimiterContract("memory", async () => {
  const limiter = new MemoryRateLimiter();
  return { limiter, peer: limiter, [Symbol.asyncDispose]: () => limiter.close() };
});
