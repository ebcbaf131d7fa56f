// Command-line flags and PUSHMESH_* environment variables into the one config schema. Every
// config key is a flag in kebab case (nodeId → --node-id, PUSHMESH_NODE_ID); keys whose value is
// an object or a list take JSON (--heartbeat '{"min":5,"default":30,"max":600}').
import { type Config, configSchema, parseConfig } from "../core/config.ts";

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const KEYS = Object.keys(configSchema.shape) as (keyof Config)[];
const FLAGS: Record<string, keyof Config> = Object.fromEntries(KEYS.map((key) => [kebab(key), key]));
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

export function configFrom(values: Record<string, unknown>, env: Record<string, string | undefined>): Config {
  const raw: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const value = values[flag] ?? env[`PUSHMESH_${flag.toUpperCase().replace(/-/g, "_")}`];
    if (value === undefined) continue;
    raw[key] = STRUCTURED.has(key) && typeof value === "string" ? parseJson(flag, value) : value;
  }
  return parseConfig(raw);
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error(`--${flag} takes JSON`, { cause });
  }
}
