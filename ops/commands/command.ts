// What a command is, and its help: usage line, description, flags (from their declarations) and
// examples. `pushmesh help send`, `send --help` and `send -h` all print the same text.
import type { FlagSpecs, FlagValues } from "./args.ts";

export type CommandSpec<F extends FlagSpecs> = {
  /** As typed: "send", "app create". */
  name: string;
  /** Its line in the list of commands. */
  summary: string;
  /** The usage line after the command's name, when the one built from the flags says too little. */
  usage?: string;
  /** Positional arguments, in order; each is required. */
  args?: { name: string; help: string }[];
  flags: F;
  /** Configuration flags shown in help; with any, the command takes every configuration setting as a flag. */
  configFlags?: string[];
  description: string;
  examples: string[];
  run(input: { flags: FlagValues<F>; args: string[]; config: Record<string, string> }): Promise<void>;
};

export type Command = CommandSpec<FlagSpecs>;

export const defineCommand = <F extends FlagSpecs>(spec: CommandSpec<F>): Command => spec as unknown as Command;

export const PROGRAM = "npm run pushmesh --";

/** What the configuration flags mean, for the ones help shows. */
const CONFIG_HELP: Record<string, [value: string, help: string]> = {
  db: ["URL", "libSQL URL; default file:pushmesh.db"],
  "db-sync": ["full|normal", "fsync every commit (full, the default) or survive process crashes only"],
  "db-sync-url": ["URL", "with a file: db, keep it as an embedded replica of this sqld"],
  "db-primary-url": ["URL", "where writes go while the sync URL does not answer"],
  "migrate-on-start": ["true|false", "apply migrations/ at start; default true"],
  engine: ["memory|redis|rest", "presence and signals: in this process, Redis, or Upstash-style REST"],
  "redis-url": ["URL", "Redis for --engine redis"],
  "rest-url": ["URL", "REST endpoint for --engine rest (with --rest-token)"],
  host: ["HOST", "address the listeners bind; default 127.0.0.1"],
  "public-host": ["HOST", "host name devices are told to connect to; default --host"],
  "edge-port": ["PORT", "edge HTTP port; default 7700, 0 = any free port"],
  "ws-port": ["PORT", "relay WebSocket port; default 7701, 0 = any free port"],
  "tcp-port": ["PORT", "relay raw TCP port; default 7702, 0 = any free port"],
  workers: ["N", "relay worker processes sharing the ports; default one per core (one with the memory engine)"],
  capacity: ["N", "connections the relay host takes in all; default 100000"],
  "node-id": ["ID", "this relay's id in the registry; default relay-1"],
  region: ["NAME", "this process's region; default local"],
  "tls-cert": ["FILE", "PEM certificate; with --tls-key the relay serves wss:// and TLS over TCP"],
  "tls-key": ["FILE", "PEM key for --tls-cert"],
  heartbeat: ["JSON", `heartbeat bounds in seconds, e.g. '{"min":5,"default":30,"max":600}'`],
  "shutdown-grace-ms": ["MS", "how long SIGTERM may spend draining devices to other relays"],
  "operator-keys": ["po_KEY[,…]", "operator credentials the fleet routes take (node registry, drain, apps); dev derives one when none is given"],
  "forward-writes-to": ["URL", "an edge far from the primary: send every write to the edge beside it"],
  "allow-plain-operator": ["true|false", "take the operator credential over plain HTTP from other machines (default: only TLS or loopback)"],
};

function table(rows: [left: string, right: string][]): string {
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${left.length >= width ? `\n  ${" ".repeat(width)}` : ""}${right}`).join("\n");
}

function usageLine(command: Command): string {
  if (command.usage) return `${PROGRAM} ${command.name} ${command.usage}`;
  const parts = [command.name, ...(command.args ?? []).map((a) => a.name)];
  for (const [name, flag] of Object.entries(command.flags)) if (flag.required) parts.push(`--${name} ${flag.value}`);
  if (Object.values(command.flags).some((f) => !f.required) || command.configFlags) parts.push("[flags]");
  return `${PROGRAM} ${parts.join(" ")}`;
}

export function commandHelp(command: Command): string {
  const sections = [`usage: ${usageLine(command)}`, command.description];
  if (command.args?.length) sections.push(`arguments:\n${table(command.args.map((a) => [a.name, a.help]))}`);
  const flagRows = Object.entries(command.flags).map(([name, flag]): [string, string] => [
    `--${name} ${flag.value}`,
    `${flag.required ? "required: " : ""}${flag.help}${flag.repeatable ? "; repeat or comma-separate" : ""}${flag.env ? ` (or ${flag.env})` : ""}`,
  ]);
  if (flagRows.length) sections.push(`flags:\n${table(flagRows)}`);
  if (command.configFlags) {
    const rows = command.configFlags.map((name): [string, string] => [`--${name} ${CONFIG_HELP[name]?.[0] ?? "VALUE"}`, CONFIG_HELP[name]?.[1] ?? ""]);
    sections.push(
      `settings (each also PUSHMESH_<NAME>, e.g. PUSHMESH_EDGE_PORT; every setting in core/config.ts is a flag):\n${table(rows)}`,
    );
  }
  sections.push(`examples:\n${command.examples.map((e) => `  ${PROGRAM} ${e}`).join("\n")}`);
  return `${sections.join("\n\n")}\n`;
}

/** The list of commands, or of one group's (`app`, `node`, `device`). */
export function listHelp(commands: Command[], group?: string): string {
  const rows = commands.map((c): [string, string] => [c.name, c.summary]);
  const head = group ? `usage: ${PROGRAM} ${group} <${commands.map((c) => c.name.slice(group.length + 1)).join("|")}> [flags]` : `usage: ${PROGRAM} <command> [flags]`;
  const tail = group
    ? `Run '${PROGRAM} help ${group} <subcommand>' for its flags and examples.`
    : [
        `Run '${PROGRAM} help <command>' (or '<command> --help') for its flags and examples.`,
        `device add, send and listen talk to an edge: --edge URL --key API_KEY (or PUSHMESH_EDGE, PUSHMESH_KEY).`,
        `--version prints the version.`,
      ].join("\n");
  return `${head}\n\n${table(rows)}\n\n${tail}\n`;
}
