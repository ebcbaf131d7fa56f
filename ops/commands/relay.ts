import { configFrom } from "../config-args.ts";
import { stderrLog } from "../log.ts";
import { runRelayHost } from "../relay-host.ts";
import { defineCommand } from "./command.ts";

export const relay = defineCommand({
  name: "relay",
  summary: "one relay of a distributed mesh (sqld replicas, Redis); see docs/operations.md",
  flags: {},
  configFlags: ["region", "node-id", "db", "db-sync-url", "db-primary-url", "migrate-on-start", "engine", "redis-url", "host", "public-host", "ws-port", "tcp-port", "workers", "capacity", "tls-cert", "tls-key", "shutdown-grace-ms"],
  description: [
    "Runs one relay host: the WebSocket and raw TCP listeners, over a store (usually an embedded",
    "replica of the region's sqld) and an engine shared with the other processes (Redis). With Redis",
    "it runs --workers processes (default one per core) that share its ports, registered as sibling",
    "nodes <node-id>.w1, .w2, …; a worker that exits is restarted. Prints one ready line of JSON with",
    "its addresses; SIGTERM drains every worker's devices to other relays, then exits.",
  ].join("\n"),
  examples: [
    "relay --region eu --node-id eu-relay-1 --db file:eu-relay-1.db --db-sync-url http://sqld-eu:8080 --db-primary-url http://sqld-primary:8080 --engine redis --redis-url redis://redis:6379 --migrate-on-start false",
    "relay --node-id eu-relay-1 --workers 4 --engine redis --redis-url redis://redis:6379 --db file:eu-relay-1.db",
  ],
  run: async ({ config }) => runRelayHost(configFrom(config, process.env), stderrLog),
});
