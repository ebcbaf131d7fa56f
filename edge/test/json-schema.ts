// A JSON Schema (2020-12 subset) check of a value against /openapi.json's own schemas, so the
// conformance test judges answers by the document a client reads, not by the server's zod code.
// A keyword it does not know fails loudly: a constraint it skipped would pass silently.

export type Schema = boolean | Record<string, unknown>;
export type Document = { components?: { schemas?: Record<string, Schema> } } & Record<string, unknown>;

const ANNOTATIONS = new Set(["description", "example", "examples", "title", "default", "deprecated", "readOnly", "writeOnly"]);
const FORMATS: Record<string, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

const fits = (type: string, value: unknown) => typeOf(value) === type || (type === "number" && typeOf(value) === "integer");

/** Resolves a local `$ref` (#/components/schemas/X). */
export function resolve(doc: Document, schema: Schema): Schema {
  if (typeof schema === "object" && typeof schema.$ref === "string") {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = doc.components?.schemas?.[name];
    if (target === undefined) throw new Error(`unresolved ${schema.$ref}`);
    return resolve(doc, target);
  }
  return schema;
}

/** Every way `value` breaks `schema`, as "path: what"; empty when it conforms. */
export function check(doc: Document, schema: Schema, value: unknown, at = "$"): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: nothing is allowed here`];
  if (typeof schema.$ref === "string") return check(doc, resolve(doc, schema), value, at);
  const errors: string[] = [];
  const fail = (what: string) => errors.push(`${at}: ${what}`);
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    const r = rule as any;
    const v = value as any;
    switch (keyword) {
      case "type":
        if (!(Array.isArray(r) ? r : [r]).some((t: string) => fits(t, value))) fail(`is ${typeOf(value)}, not ${r}`);
        break;
      case "enum":
        if (!r.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) fail(`is not one of ${JSON.stringify(r)}`);
        break;
      case "const":
        if (JSON.stringify(r) !== JSON.stringify(value)) fail(`is not ${JSON.stringify(r)}`);
        break;
      case "properties":
        if (typeOf(value) === "object") {
          for (const [k, s] of Object.entries(r)) if (k in v) errors.push(...check(doc, s as Schema, v[k], `${at}.${k}`));
        }
        break;
      case "required":
        if (typeOf(value) === "object") for (const k of r) if (!(k in v)) fail(`lacks ${k}`);
        break;
      case "additionalProperties":
        if (typeOf(value) === "object") {
          const known = Object.keys((schema.properties as object | undefined) ?? {});
          for (const k of Object.keys(v)) if (!known.includes(k)) errors.push(...check(doc, r, v[k], `${at}.${k}`));
        }
        break;
      case "items":
        if (Array.isArray(value)) value.forEach((item, i) => errors.push(...check(doc, r, item, `${at}.${i}`)));
        break;
      case "minItems":
        if (Array.isArray(value) && value.length < r) fail(`has fewer than ${r} items`);
        break;
      case "maxItems":
        if (Array.isArray(value) && value.length > r) fail(`has more than ${r} items`);
        break;
      case "minLength":
        if (typeof value === "string" && [...value].length < r) fail(`is shorter than ${r}`);
        break;
      case "maxLength":
        if (typeof value === "string" && [...value].length > r) fail(`is longer than ${r}`);
        break;
      case "pattern":
        if (typeof value === "string" && !new RegExp(r, "u").test(value)) fail(`does not match ${r}`);
        break;
      case "format":
        if (typeof value === "string" && FORMATS[r] && !FORMATS[r].test(value)) fail(`is not a ${r}`);
        break;
      case "minimum":
        if (typeof value === "number" && value < r) fail(`is below ${r}`);
        break;
      case "maximum":
        if (typeof value === "number" && value > r) fail(`is above ${r}`);
        break;
      case "exclusiveMinimum":
        if (typeof value === "number" && value <= r) fail(`is not above ${r}`);
        break;
      case "exclusiveMaximum":
        if (typeof value === "number" && value >= r) fail(`is not below ${r}`);
        break;
      case "allOf":
        for (const s of r) errors.push(...check(doc, s, value, at));
        break;
      case "anyOf":
        if (!r.some((s: Schema) => check(doc, s, value, at).length === 0)) fail("matches none of anyOf");
        break;
      case "oneOf": {
        const matching = r.filter((s: Schema) => check(doc, s, value, at).length === 0).length;
        if (matching !== 1) fail(`matches ${matching} of oneOf, not exactly one`);
        break;
      }
      case "not":
        if (check(doc, r, value, at).length === 0) fail("matches what `not` excludes");
        break;
      default:
        throw new Error(`json-schema check: unknown keyword ${keyword} at ${at}`);
    }
  }
  return errors;
}
