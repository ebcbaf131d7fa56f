// One worker of a relay host (ops/relay-host.ts): the host passes its settings as JSON, with this
// worker's node id and the host's ports. A failure at start is reported as the CLI reports it.
import { parseConfig } from "../core/config.ts";
import { CliError } from "./commands/errors.ts";
import { stderrLog } from "./log.ts";
import { runRelayProcess } from "./processes.ts";
import { relayPortInUse } from "./port-in-use.ts";

const config = parseConfig(JSON.parse(process.env.PUSHMESH_RELAY_WORKER_CONFIG ?? "{}"));
try {
  await runRelayProcess(config, stderrLog, { worker: true });
} catch (error) {
  const reported = relayPortInUse(error, config, { flags: ["--ws-port", "--tcp-port"], example: "npm run pushmesh -- relay … --ws-port 0 --tcp-port 0" });
  process.stderr.write(`pushmesh: ${reported instanceof CliError ? `${reported.code}: ` : ""}${reported instanceof Error ? reported.message : String(reported)}\n`);
  process.exit(reported instanceof CliError ? reported.exitCode : 1);
}
