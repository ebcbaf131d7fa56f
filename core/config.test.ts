import { expect, test } from "bun:test";
import { ConfigError, parseConfig } from "./config.ts";

test("defaults, coercion from strings, and named failures", () => {
  const config = parseConfig({ edgePort: "0", heartbeat: { min: 2, default: 10, max: 60 } });
  expect(config.edgePort).toBe(0);
  expect(config.db).toBe("file:pushmesh.db");
  expect(config.heartbeat).toEqual({ min: 2, default: 10, max: 60 });
  expect(() => parseConfig({ edgePort: "70000" })).toThrow(ConfigError);
  expect(() => parseConfig({ heartbeat: { min: 50, default: 10, max: 60 } })).toThrow("min <= default <= max");
  expect(() => parseConfig({ surprise: 1 })).toThrow(ConfigError);
});
