import { engineContract } from "./engine.contract.ts";
import { MemoryEngine, MemoryRateLimiter } from "./memory.ts";
import { rateLimiterContract } from "./rate-limiter.contract.ts";

engineContract("memory", async () => {
  const engine = new MemoryEngine();
  return { node: engine, edge: engine, [Symbol.asyncDispose]: () => engine.close() };
});

rateLimiterContract("memory", async () => {
  const limiter = new MemoryRateLimiter();
  return { limiter, peer: limiter, [Symbol.asyncDispose]: () => limiter.close() };
});
