// Command-line flags and PUSHMESH_* environment variables into the one config schema. Every
// config key is a flag in kebab case (nodeId → --node-id, PUSHMESH_NODE_ID); keys whose value is
// an object or a list take JSON (--heartbeat '{"min":5,"default":30,"max":600}').
import { type Config, ConfigError, configSchema, parseConfig } from "../core/config.ts";
import { CliError } from "./commands/errors.ts";

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (flag: string) => `PUSHMESH_${flag.toUpperCase().replace(/-/g, "_")}`;

const KEYS = Object.keys(configSchema.shape) as (keyof Config)[];
/** `version` is only an environment variable: `--version` prints the CLI's version. */
const FLAGS: Record<string, keyof Config> = Object.fromEntries(KEYS.filter((key) => key !== "version").map((key) => [kebab(key), key]));
/** Keys that take structured values, so their flag's text is parsed as JSON. */
const STRUCTURED = new Set(KEYS.filter((k) => /^(ZodObject|ZodRecord|ZodArray)$/.test(innerType(configSchema.shape[k]))));

function innerType(schema: unknown): string {
  let s = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (s?.def && (s.def.type === "default" || s.def.type === "optional" || s.def.type === "pipe") && s.def.innerType) {
    s = s.def.innerType as typeof s;
  }
  const type = s?.def?.type ?? "";
  return { object: "ZodObject", record: "ZodRecord", array: "ZodArray" }[type] ?? type;
}

export const CONFIG_FLAGS = Object.keys(FLAGS);

/**
 * The configuration from flags, then environment variables, then defaults. A bad value is an
 * INVALID_ARGUMENT naming the flag or variable it came from.
 */
export function configFrom(values: Record<string, unknown>, env: Record<string, string | undefined>): Config {
  const raw: Record<string, unknown> = {};
  /** Where each key's value came from, as the user wrote it. */
  const source = new Map<string, string>();
  for (const [flag, key] of Object.entries(FLAGS)) {
    const fromFlag = values[flag];
    const value = fromFlag ?? env[envName(flag)];
    if (value === undefined) continue;
    source.set(key, fromFlag === undefined ? envName(flag) : `--${flag}`);
    raw[key] = STRUCTURED.has(key) && typeof value === "string" ? parseJson(source.get(key)!, value) : value;
  }
  if (env.PUSHMESH_VERSION !== undefined) raw.version = env.PUSHMESH_VERSION;
  try {
    return parseConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const issues = (error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues ?? [];
    const named = issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const where = source.get(key) ?? (key ? `--${kebab(key)}` : "the configuration");
      const value = key in raw ? ` (${JSON.stringify(raw[key])})` : "";
      return `${where}${value}: ${issue.message}`;
    });
    throw new CliError("INVALID_ARGUMENT", named.length > 0 ? named.join("; ") : error.message, { cause: error });
  }
}

function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new CliError("INVALID_ARGUMENT", `${where} takes JSON`, { cause });
  }
}
