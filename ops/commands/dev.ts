import { configFrom } from "../config-args.ts";
import { stderrLog } from "../log.ts";
import { ensureDemoApp, startMesh } from "../mesh.ts";
import { defineCommand } from "./command.ts";
import { print } from "./output.ts";

export const dev = defineCommand({
  name: "dev",
  summary: "the whole mesh in one process (what `npm start` runs); prints one ready line of JSON",
  flags: {},
  configFlags: ["db", "db-sync", "host", "public-host", "edge-port", "ws-port", "tcp-port", "node-id", "region", "tls-cert", "tls-key", "heartbeat", "shutdown-grace-ms", "operator-keys", "allow-plain-operator", "spool-path"],
  description: [
    "Runs the store (a local libSQL file), the relay's WebSocket and TCP listeners and the edge HTTP API",
    "in this process, with a demo app. When ready it prints one line of JSON on stdout: the edge, ws and",
    "tcp addresses, the demo app's id and API key, and the operator key the fleet routes take (the same",
    "keys on every start; --operator-keys sets your own). Logs go to stderr.",
    "SIGINT or SIGTERM stops it, draining devices for up to --shutdown-grace-ms.",
  ].join("\n"),
  examples: [
    "dev",
    "dev --db file:/tmp/mesh.db --edge-port 0 --ws-port 0 --tcp-port 0     # any free ports",
    "dev --host 0.0.0.0 --public-host push.example.com",
  ],
  async run({ config: flags }) {
    const config = configFrom(flags, process.env);
    const mesh = await startMesh(config, stderrLog);
    const shutdown = (signal: string) => {
      stderrLog("shutdown", { signal });
      mesh.stop(config.shutdownGraceMs).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    // Handlers go in before the ready line: whoever reads it may signal at once.
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    const { appId, apiKey } = await ensureDemoApp(mesh.store);
    print({ ready: true, edge: mesh.edge, ws: mesh.ws, tcp: mesh.tcp, appId, apiKey, operatorKey: mesh.operatorKey });
  },
});
