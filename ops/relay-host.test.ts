import { expect, test } from "bun:test";
import { parseConfig } from "../core/config.ts";
import { workerCount, workerNodeId } from "./relay-host.ts";

test("a relay host runs --workers workers, one per core by default, and one with the memory engine", () => {
  const redis = { engine: "redis", redisUrl: "redis://127.0.0.1:6379" } as const;
  expect(workerCount(parseConfig({ ...redis }), 2)).toBe(2);
  expect(workerCount(parseConfig({ ...redis, workers: 6 }), 2)).toBe(6);
  expect(workerCount(parseConfig({}), 8)).toBe(1);
  expect(workerCount(parseConfig({ workers: 1 }), 8)).toBe(1);
  expect(() => workerCount(parseConfig({ workers: 2 }), 8)).toThrow(/memory engine keeps presence and signals in one process/);
  expect(workerNodeId("eu-relay-1", 3)).toBe("eu-relay-1.w3");
});
