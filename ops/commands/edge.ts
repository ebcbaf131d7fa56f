import { configFrom } from "../config-args.ts";
import { stderrLog } from "../log.ts";
import { runEdgeProcess } from "../processes.ts";
import { defineCommand } from "./command.ts";

export const edge = defineCommand({
  name: "edge",
  summary: "one edge of a distributed mesh (sqld replicas, Redis or Upstash REST); see docs/operations.md",
  flags: {},
  configFlags: ["region", "db", "db-sync-url", "db-primary-url", "migrate-on-start", "engine", "redis-url", "rest-url", "host", "public-host", "edge-port", "tls-cert", "tls-key", "operator-keys", "allow-plain-operator", "forward-writes-to", "spool-path", "spool-max-entries", "spool-max-bytes"],
  description: [
    "Runs one edge: the HTTP API over a store (usually an embedded replica of the region's sqld) and",
    "an engine shared with the relays (Redis, or Upstash-style REST with --rest-token). Prints one",
    "ready line of JSON with its address; SIGTERM stops it.",
  ].join("\n"),
  examples: [
    "edge --region eu --db file:eu-edge.db --db-sync-url http://sqld-eu:8080 --db-primary-url http://sqld-primary:8080 --engine rest --rest-url https://… --rest-token … --migrate-on-start false",
  ],
  run: async ({ config }) => runEdgeProcess(configFrom(config, process.env), stderrLog),
});
