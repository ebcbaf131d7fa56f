// Every command, and how the words at the start of a command line name one.
import { appCreate } from "./app.ts";
import { cluster } from "./cluster.ts";
import type { Command } from "./command.ts";
import { dev } from "./dev.ts";
import { deviceAdd } from "./device.ts";
import { edge } from "./edge.ts";
import { CliError, nearest } from "./errors.ts";
import { listen } from "./listen.ts";
import { migrate } from "./migrate.ts";
import { nodeDrain, nodeList, nodeUndrain } from "./node.ts";
import { relay } from "./relay.ts";
import { send } from "./send.ts";

/** In the order the list of commands shows them. */
export const COMMANDS: Command[] = [dev, migrate, appCreate, nodeList, nodeDrain, nodeUndrain, relay, edge, cluster, deviceAdd, send, listen];

/** Words that name a group of commands (`app create`, `node list`). */
const groupOf = (command: Command) => (command.name.includes(" ") ? command.name.split(" ")[0]! : undefined);
const GROUPS = new Set(COMMANDS.map(groupOf).filter((g): g is string => g !== undefined));

export type Resolved =
  | { kind: "command"; command: Command; rest: string[] }
  /** A group's name without (a valid) subcommand: its list is the help. */
  | { kind: "group"; group: string; commands: Command[]; rest: string[] };

/**
 * The command `words` start with, and the words after it. A word that names nothing is an
 * UNKNOWN_COMMAND naming it and the nearest command; a group without its subcommand is returned as
 * the group, for help to list.
 */
export function resolveCommand(words: string[]): Resolved | null {
  const [first, second] = words;
  if (first === undefined || first.startsWith("-")) return null;
  const direct = COMMANDS.find((c) => c.name === first);
  if (direct) return { kind: "command", command: direct, rest: words.slice(1) };
  if (GROUPS.has(first)) {
    const commands = COMMANDS.filter((c) => groupOf(c) === first);
    const sub = commands.find((c) => c.name === `${first} ${second}`);
    if (sub) return { kind: "command", command: sub, rest: words.slice(2) };
    if (second !== undefined && !second.startsWith("-")) {
      const guess = nearest(second, commands.map((c) => c.name.slice(first.length + 1)));
      throw new CliError("UNKNOWN_COMMAND", `${first} has no subcommand '${second}'${guess ? `; did you mean '${first} ${guess}'?` : ""}`, {
        helpFor: first,
      });
    }
    return { kind: "group", group: first, commands, rest: words.slice(1) };
  }
  const names = [...COMMANDS.filter((c) => !groupOf(c)).map((c) => c.name), ...GROUPS, "help"];
  const guess = nearest(first, names);
  throw new CliError("UNKNOWN_COMMAND", `'${first}' is not a command${guess ? `; did you mean '${guess}'?` : ""}`);
}
