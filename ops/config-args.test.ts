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
