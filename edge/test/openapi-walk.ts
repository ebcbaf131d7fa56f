// What the conformance test derives from /openapi.json: the operations, and for a valid value of a
// schema the values that break it (each with the path the answer must name) and the boundary
// values that must pass.
import { check, type Document, resolve, type Schema } from "./json-schema.ts";

export type Operation = {
  method: string;
  path: string;
  scope: string | null;
  /** A fleet route: it takes the operator credential. */
  operator: boolean;
  /** Between edges: the body is signed with the mesh's hand-over secret. */
  edge: boolean;
  parameters: { name: string; in: "path" | "query"; required: boolean; schema: Schema }[];
  body: { schema: Schema; required: boolean } | null;
  responses: Record<string, { content?: Record<string, { schema: Schema }>; headers?: Record<string, unknown>; "x-error-codes"?: string[] }>;
};

export function operations(doc: any): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      scope: op.security?.[0]?.apiKey?.[0] ?? null,
      operator: op.security?.[0]?.operatorKey !== undefined,
      edge: op.security?.[0]?.edgeHandover !== undefined,
      parameters: op.parameters ?? [],
      body: op.requestBody ? { schema: op.requestBody.content["application/json"].schema, required: op.requestBody.required === true } : null,
      responses: op.responses,
    })),
  );
}

/**
 * A change to a valid value: `value` replaces (or, `remove`, deletes) what is at `at`; `names` is
 * the path a refusal must name (a union whose branch lost its field is named itself).
 */
export type Change = { at: string[]; names: string[]; value?: unknown; remove?: boolean; why: string };

const SAMPLE_CHARS = ["😀", "é", "a"];

/** What a query or path text means to a schema: digits are the number they spell. */
const meaning = (value: unknown, asText: boolean) =>
  asText && typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;

/** The schema an object or array value was checked against, through refs and unions. */
function effective(doc: Document, schema: Schema, value: unknown): Schema {
  const s = resolve(doc, schema);
  if (typeof s !== "object") return s;
  for (const key of ["oneOf", "anyOf"] as const) {
    const branches = s[key] as Schema[] | undefined;
    const fitting = branches?.find((b) => check(doc, b, value).length === 0);
    if (fitting) return effective(doc, fitting, value);
  }
  return s;
}

/** Values that break `schema` by itself (its type, bounds, pattern, choices); `asText` for query and path values. */
function breaking(doc: Document, schema: Schema, asText: boolean): { value: unknown; why: string }[] {
  const s = resolve(doc, schema) as Record<string, any>;
  const out: { value: unknown; why: string }[] = [];
  const add = (value: unknown, why: string) => out.push({ value: asText && typeof value === "number" ? String(value) : value, why });
  const types: string[] = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (s.enum) add("not-a-choice", "not one of the choices");
  if (types.includes("integer") || types.includes("number")) {
    add(asText ? "twelve" : "12", "text, not a number");
    if (asText) add("null", "the word null");
    if (types.includes("integer")) add(asText ? "1.5" : 1.5, "a fraction");
    if (s.minimum !== undefined) add(s.minimum - 1, "below the minimum");
    if (s.maximum !== undefined) add(s.maximum + 1, "above the maximum");
  }
  if (types.includes("string")) {
    if (!asText) add(5, "a number, not text");
    if ((s.minLength ?? 0) >= 1 && !asText) add("", "empty");
    if (s.maxLength !== undefined) add("a".repeat(s.maxLength + 1), "one character too long");
    if (s.pattern !== undefined || s.format !== undefined) add("a\u0001b", "a control character");
    if (s.pattern !== undefined) add("a b/c", "characters outside the pattern");
  }
  if (types.includes("boolean") && !asText) add("yes", "text, not a boolean");
  if (types.includes("array")) {
    add("x", "text, not a list");
    if ((s.minItems ?? 0) >= 1) add([], "an empty list");
  }
  if (types.includes("object")) add([1], "a list, not an object");
  if (!asText) add(null, "null");
  if (s.anyOf || s.oneOf) add(asText ? "zz-none" : true, "a value no branch takes");
  return out.filter((o) => check(doc, schema, meaning(o.value, asText)).length > 0);
}

/** Changes to a valid `value` that each break `schema`, at every depth. */
export function breakingChanges(doc: Document, schema: Schema, value: unknown, at: string[] = [], asText = false): Change[] {
  const changes: Change[] = breaking(doc, schema, asText).map((b) => ({ at, names: at, value: b.value, why: b.why }));
  const s = effective(doc, schema, value) as Record<string, any>;
  if (typeof s !== "object") return changes;
  const resolved = resolve(doc, schema) as Record<string, unknown>;
  const isUnion = resolved.oneOf !== undefined || resolved.anyOf !== undefined;
  if (s.type === "object" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (s.properties?.[key]) changes.push(...breakingChanges(doc, s.properties[key], child, [...at, key]));
      if (s.required?.includes(key)) changes.push({ at: [...at, key], names: isUnion ? at : [...at, key], remove: true, why: "missing" });
    }
    if (s.additionalProperties === false) changes.push({ at: [...at, "zzUnknown"], names: [...at, "zzUnknown"], value: 1, why: "an unknown field" });
  }
  if (s.type === "array" && Array.isArray(value) && value.length > 0) {
    changes.push(...breakingChanges(doc, s.items, value[0], [...at, "0"]));
    if (s.maxItems !== undefined) changes.push({ at, names: at, value: Array(s.maxItems + 1).fill(value[0]), why: "one item too many" });
  }
  return changes;
}

/** Boundary values `schema` accepts: integer bounds, and ids at their longest in astral characters where the pattern allows. */
export function passingChanges(doc: Document, schema: Schema, value: unknown, at: string[] = [], asText = false): Change[] {
  const changes: Change[] = [];
  const s = resolve(doc, schema) as Record<string, any>;
  if (typeof s !== "object") return changes;
  if (s.type === "integer" && s.minimum !== undefined && s.maximum !== undefined) {
    for (const n of [s.minimum, s.maximum]) changes.push({ at, names: at, value: asText ? String(n) : n, why: `the bound ${n}` });
  }
  if (!asText && value !== null) changes.push({ at, names: at, value: null, why: "null" });
  const isId = typeof (schema as any).$ref === "string" && s.type === "string" && s.maxLength !== undefined;
  if (isId) {
    const char = SAMPLE_CHARS.find((c) => check(doc, schema, c.repeat(s.maxLength)).length === 0);
    if (char) changes.push({ at, names: at, value: char.repeat(s.maxLength), why: `${s.maxLength} × ${char}` });
  }
  const own = changes.filter((c) => check(doc, schema, meaning(c.value, asText)).length === 0);
  const e = effective(doc, schema, value) as Record<string, any>;
  if (e.type === "object" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (e.properties?.[key]) own.push(...passingChanges(doc, e.properties[key], child, [...at, key]));
    }
  }
  if (e.type === "array" && Array.isArray(value) && value.length > 0) own.push(...passingChanges(doc, e.items, value[0], [...at, "0"]));
  return own;
}

/** `value` with `change` made, leaving `value` itself as it was. */
export function apply(value: unknown, change: Change): unknown {
  if (change.at.length === 0) return change.value;
  const copy = structuredClone(value) as any;
  let here = copy;
  for (const key of change.at.slice(0, -1)) here = here[key];
  const last = change.at.at(-1)!;
  if (change.remove) delete here[last];
  else here[last] = change.value;
  return copy;
}
