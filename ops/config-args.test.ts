import { expect, test } from "bun:test";
import { CONFIG_FLAGS, configFrom } from "./config-args.ts";

test("every config key is a flag and an environment variable; structured keys take JSON", () => {
  expect(CONFIG_FLAGS).toEqual(expect.arrayContaining(["db", "edge-port", "tls-cert", "drain-rate", "heartbeat", "shutdown-grace-ms"]));
  const config = configFrom(
    { "edge-port": "0", heartbeat: '{"min":2,"default":10,"max":60}' },
    { PUSHMESH_NODE_ID: "relay-9", PUSHMESH_DRAIN_RATE: "250" },
  );
  expect(config.edgePort).toBe(0);
  expect(config.nodeId).toBe("relay-9");
  expect(config.drainRate).toBe(250);
  expect(config.heartbeat).toEqual({ min: 2, default: 10, max: 60 });
  expect(() => configFrom({ heartbeat: "{nope" }, {})).toThrow("--heartbeat takes JSON");
});

test("a bad setting is an INVALID_ARGUMENT naming the flag or the variable it came from", () => {
  expect(() => configFrom({ "edge-port": "99999" }, {})).toThrow(/^--edge-port \("99999"\): /);
  expect(() => configFrom({}, { PUSHMESH_WS_PORT: "web" })).toThrow(/^PUSHMESH_WS_PORT \("web"\): /);
  let error: unknown;
  try {
    configFrom({ engine: "postgres" }, {});
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toMatchObject({ name: "CliError", code: "INVALID_ARGUMENT", message: expect.stringMatching(/^--engine \("postgres"\): /) });
});

test("--version is the CLI's own flag; the config's version is read from PUSHMESH_VERSION only", () => {
  expect(CONFIG_FLAGS).not.toContain("version");
  expect(configFrom({}, { PUSHMESH_VERSION: "9.9.9" }).version).toBe("9.9.9");
});
