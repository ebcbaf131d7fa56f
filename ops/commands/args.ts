// Flags and how a command line is read. Each command declares its flags; every value is parsed and
// checked here, so a bad one is a named error before the command does anything.
import { CliError, nearest } from "./errors.ts";

export type Flag<T, R extends boolean = boolean> = {
  /** The value's placeholder in help (ID, JSON, S). */
  value: string;
  help: string;
  required: R;
  /** May be given more than once; the values add up (list flags also split on commas). */
  repeatable: boolean;
  /** Read when the flag is absent. */
  env?: string;
  parse(text: string, flag: string): T;
};

type Options<R extends boolean> = { required?: R; env?: string };
type AnyFlag = Flag<any>;
export type FlagSpecs = Record<string, AnyFlag>;
type ValueOf<F> = F extends Flag<infer T, boolean> ? T : never;
/** Parsed flags: required ones always present. */
export type FlagValues<F extends FlagSpecs> = { [K in keyof F as F[K] extends Flag<any, true> ? K : never]: ValueOf<F[K]> } & {
  [K in keyof F as F[K] extends Flag<any, true> ? never : K]?: ValueOf<F[K]>;
};

const invalid = (flag: string, message: string) => new CliError("INVALID_ARGUMENT", `--${flag} ${message}`);

export function text<R extends boolean = false>(
  value: string,
  help: string,
  options: Options<R> & { check?: (text: string) => string | null } = {},
): Flag<string, R> {
  return {
    value,
    help,
    required: (options.required ?? false) as R,
    repeatable: false,
    env: options.env,
    parse(text, flag) {
      if (text === "") throw invalid(flag, "needs a value, not an empty string");
      const problem = options.check?.(text);
      if (problem) throw invalid(flag, `${problem}, not '${text}'`);
      return text;
    },
  };
}

/** A whole number in [min, max]; negative values are written as they are (`--n -5`). */
export function integer<R extends boolean = false>(value: string, help: string, min: number, max: number, options: Options<R> = {}): Flag<number, R> {
  return {
    value,
    help: `${help} (${min}…${max})`,
    required: (options.required ?? false) as R,
    repeatable: false,
    env: options.env,
    parse(text, flag) {
      const n = /^[-+]?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw invalid(flag, `takes a whole number, not '${text}'`);
      if (n < min || n > max) throw invalid(flag, `takes a number from ${min} to ${max}, not ${n}`);
      return n;
    },
  };
}

export function oneOf<const V extends string, R extends boolean = false>(values: readonly V[], help: string, options: Options<R> = {}): Flag<V, R> {
  return {
    value: values.join("|"),
    help,
    required: (options.required ?? false) as R,
    repeatable: false,
    env: options.env,
    parse(text, flag) {
      if ((values as readonly string[]).includes(text)) return text as V;
      const guess = nearest(text, values);
      const choices = `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
      throw invalid(flag, `takes ${choices}, not '${text}'${guess ? ` (did you mean ${guess}?)` : ""}`);
    },
  };
}

export function json<R extends boolean = false>(value: string, help: string, options: Options<R> = {}): Flag<unknown, R> {
  return {
    value,
    help,
    required: (options.required ?? false) as R,
    repeatable: false,
    env: options.env,
    parse(text, flag) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw invalid(flag, `takes JSON (a string is written '"text"'), not ${text}`);
      }
    },
  };
}

/** Comma-separated values; the flag may also be repeated. Each item is checked by `check`. */
export function list<R extends boolean = false>(
  value: string,
  help: string,
  options: Options<R> & { check?: (item: string) => string | null } = {},
): Flag<string[], R> {
  return {
    value,
    help,
    required: (options.required ?? false) as R,
    repeatable: true,
    env: options.env,
    parse(text, flag) {
      const items = text.split(",").map((s) => s.trim());
      for (const item of items) {
        if (item === "") throw invalid(flag, `has an empty item in '${text}'`);
        const problem = options.check?.(item);
        if (problem) throw invalid(flag, `${problem}, not '${item}'`);
      }
      return items;
    },
  };
}

export type ParsedLine = { flags: Record<string, unknown>; args: string[]; config: Record<string, string> };

/**
 * Reads `argv` (what follows the command's name) against the command's flags. `--name value` and
 * `--name=value` both work; a value may start with `-` when it is a number (`--ttl -5`). With
 * `configFlags`, the configuration's flags are also taken, as text for `configFrom` to check.
 */
export function parseLine(argv: string[], flags: FlagSpecs, command: string, configFlags: readonly string[] = []): ParsedLine {
  const values: Record<string, unknown> = {};
  const config: Record<string, string> = {};
  const args: string[] = [];
  const known = [...Object.keys(flags), ...configFlags];
  const error = (code: "UNKNOWN_FLAG" | "MISSING_ARGUMENT" | "INVALID_ARGUMENT", message: string) =>
    new CliError(code, message, { helpFor: command });
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || /^-\d/.test(token)) {
      args.push(token);
      continue;
    }
    if (!token.startsWith("--")) throw error("UNKNOWN_FLAG", `${command} takes no flag ${token}`);
    const eq = token.indexOf("=");
    const name = token.slice(2, eq < 0 ? undefined : eq);
    const spec = flags[name];
    if (!spec && !configFlags.includes(name)) {
      const guess = nearest(name, known);
      throw error("UNKNOWN_FLAG", `${command} takes no flag --${name}${guess ? `; did you mean --${guess}?` : ""}`);
    }
    let text: string;
    if (eq >= 0) text = token.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // A following flag is not taken as this one's value, except a negative number.
      if (next === undefined || (next.startsWith("-") && !/^-\d/.test(next))) {
        const hint = next === undefined ? "" : `; write --${name}=VALUE for a value that starts with '-'`;
        throw error("MISSING_ARGUMENT", `--${name} needs a value (${spec?.value ?? "VALUE"})${hint}`);
      }
      text = next;
      i++;
    }
    if (!spec) {
      if (name in config) throw error("INVALID_ARGUMENT", `--${name} is given twice`);
      config[name] = text;
      continue;
    }
    let value: unknown;
    try {
      value = spec.parse(text, name);
    } catch (cause) {
      throw cause instanceof CliError ? new CliError(cause.code, cause.message, { cause, helpFor: command }) : cause;
    }
    if (!(name in values)) values[name] = value;
    else if (spec.repeatable) values[name] = [...(values[name] as unknown[]), ...(value as unknown[])];
    else throw error("INVALID_ARGUMENT", `--${name} is given twice`);
  }
  return { flags: values, args, config };
}

/** Fills absent flags from their environment variables and checks that required ones are there. */
export function completeFlags(parsed: Record<string, unknown>, flags: FlagSpecs, command: string, env: Record<string, string | undefined>): void {
  for (const [name, spec] of Object.entries(flags)) {
    if (name in parsed) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== "") {
      try {
        parsed[name] = spec.parse(fromEnv, name);
      } catch (cause) {
        const message = cause instanceof Error ? cause.message.replace(`--${name}`, spec.env!) : String(cause);
        throw new CliError("INVALID_ARGUMENT", message, { cause, helpFor: command });
      }
    } else if (spec.required) {
      throw new CliError("MISSING_ARGUMENT", `${command} needs --${name} ${spec.value}${spec.env ? ` (or ${spec.env})` : ""}`, { helpFor: command });
    }
  }
}
