// `npm run pushmesh -- <command>`: the operator and developer entry point.
import { parseArgs } from "node:util";
import { COMMAND_FLAGS, commands, USAGE } from "./commands.ts";

try {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { ...COMMAND_FLAGS, help: { type: "boolean" } },
    allowPositionals: true,
  });
  const [name, ...rest] = positionals;
  const command = name ? commands[name] : undefined;
  if (!command || values.help) {
    process.stderr.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  await command(rest, values as Record<string, string | undefined>);
} catch (error) {
  process.stderr.write(`pushmesh: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
