// `npm run pushmesh -- <command>`: the operator and developer entry point. Answers are JSON lines
// on stdout and logs are JSON lines on stderr; help, when asked for, is text on stdout. A command
// line that cannot be run is a named error (ops/commands/errors.ts) before anything is done.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_FLAGS } from "./config-args.ts";
import { completeFlags, parseLine } from "./commands/args.ts";
import { type Command, commandHelp, listHelp, PROGRAM } from "./commands/command.ts";
import { CliError } from "./commands/errors.ts";
import { COMMANDS, type Resolved, resolveCommand } from "./commands/index.ts";

const helpOf = (resolved: Resolved | null) =>
  !resolved ? listHelp(COMMANDS) : resolved.kind === "group" ? listHelp(resolved.commands, resolved.group) : commandHelp(resolved.command);

/**
 * The exit code, or null once a command has run: the process then ends when the command's work
 * does, which for a server (dev, listen, relay, …) is when it is signalled.
 */
async function main(argv: string[]): Promise<number | null> {
  // After `--` come values, not requests for help.
  const end = argv.indexOf("--");
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes("--version")) {
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "..", "package.json"), "utf8")) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (argv[0] === "help") {
    process.stdout.write(helpOf(resolveCommand(argv.slice(1))));
    return 0;
  }
  const resolved = resolveCommand(argv);
  if (flags.includes("--help") || flags.includes("-h")) {
    process.stdout.write(helpOf(resolved));
    return 0;
  }
  if (argv.length === 0) {
    process.stderr.write(listHelp(COMMANDS));
    return 2;
  }
  if (!resolved) throw new CliError("MISSING_ARGUMENT", `no command: the command comes first, as in ${PROGRAM} <command> [flags]`);
  if (resolved.kind === "group") {
    const subs = resolved.commands.map((c) => c.name.slice(resolved.group.length + 1)).join(", ");
    throw new CliError("MISSING_ARGUMENT", `${resolved.group} needs a subcommand: ${subs}`, { helpFor: resolved.group });
  }
  await run(resolved.command, resolved.rest);
  return null;
}

async function run(command: Command, argv: string[]): Promise<void> {
  const line = parseLine(argv, command.flags, command.name, command.configFlags ? CONFIG_FLAGS : []);
  const wanted = command.args ?? [];
  const names = (args: { name: string }[]) => args.map((a) => a.name).join(" ");
  if (line.args.length < wanted.length) {
    throw new CliError("MISSING_ARGUMENT", `${command.name} needs ${names(wanted.slice(line.args.length))}`, { helpFor: command.name });
  }
  if (line.args.length > wanted.length) {
    const takes = wanted.length === 0 ? "no arguments" : names(wanted);
    throw new CliError("UNEXPECTED_ARGUMENT", `${command.name} takes ${takes}, not '${line.args.slice(wanted.length).join(" ")}'`, { helpFor: command.name });
  }
  completeFlags(line.flags, command.flags, command.name, process.env);
  try {
    await command.run(line as Parameters<Command["run"]>[0]);
  } catch (error) {
    // A bad setting found by the configuration's own checks: point to this command's help.
    if (error instanceof CliError && error.isUsage && !error.helpFor) throw new CliError(error.code, error.message, { cause: error, helpFor: command.name });
    throw error;
  }
}

function report(error: unknown): number {
  if (!(error instanceof CliError)) {
    process.stderr.write(`pushmesh: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    return 1;
  }
  const hint = !error.isUsage ? "" : error.helpFor ? `\n  run '${PROGRAM} help ${error.helpFor}' for its flags and examples` : `\n  run '${PROGRAM} help' for the commands`;
  process.stderr.write(`pushmesh: ${error.code}: ${error.message}${hint}\n`);
  return error.exitCode;
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== null) process.exit(code);
} catch (error) {
  process.exit(report(error));
}
