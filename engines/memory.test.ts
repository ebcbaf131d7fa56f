import { engineContract } from "./engine.contract.ts";
import { MemoryEngine } from "./memory.ts";

engineContract("memory", async () => {
  const engine = new MemoryEngine();
  return { node: engine, edge: engine, [Symbol.asyncDispose]: () => engine.close() };
});
