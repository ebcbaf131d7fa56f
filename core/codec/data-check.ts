// What a message's `data` may be: a JSON value a device can decode, checked once at the edge before
// it is encoded (codec.ts encodeData). docs/protocol.md §4.4 states these rules for client authors.
import { PushmeshError } from "../errors.ts";

/**
 * Arrays and objects in `data` nest at most this deep (`[[1]]` is 2 levels). The frame around
 * `data` and this bound stay well inside what the decoder takes (MAX_CBOR_NESTING, 64) and what
 * small device decoders allow.
 */
export const MAX_DATA_DEPTH = 32;

/** depth: nested too deep; type: not a JSON value (function, symbol, bigint, undefined in an array, a Date…); number: NaN or ±Infinity. */
export type DataRule = "depth" | "type" | "number";

/** `data` cannot be delivered as it is: DATA_INVALID (400), whose details name the place and the rule. */
export class DataError extends PushmeshError {
  constructor(
    readonly rule: DataRule,
    readonly path: string,
    problem: string,
  ) {
    super("DATA_INVALID", `${path}: ${problem}`, { details: [{ path, message: problem }] });
    this.name = "DataError";
  }
}

type StringES2024 = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * Returns `value` ready for the CBOR encoder, or throws DataError. The result is `value` itself
 * unless something had to change the way JSON.stringify would change it: object properties whose
 * value is undefined are left out, and lone UTF-16 surrogates (which UTF-8 cannot carry) become
 * U+FFFD, as any UTF-8 encoder writes them. Then only the changed containers are copied.
 */
export function checkData(value: unknown): unknown {
  trail.length = 0;
  if (value === undefined) throw new DataError("type", "data", "undefined is not a JSON value");
  return check(value, 0);
}

// Keys from the top down to the value being checked; read only to name where a rule failed.
const trail: (string | number)[] = [];

function check(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      return (value as StringES2024).isWellFormed() ? value : (value as StringES2024).toWellFormed();
    case "number":
      if (!Number.isFinite(value)) throw fail("number", `${value} is not a JSON number`);
      return value;
    case "boolean":
      return value;
    case "object":
      if (value === null) return value;
      if (depth === MAX_DATA_DEPTH) throw fail("depth", `nested deeper than ${MAX_DATA_DEPTH} levels`);
      if (Array.isArray(value)) return checkArray(value, depth + 1);
      return checkObject(value as Record<string, unknown>, depth + 1);
    default:
      throw fail("type", `a ${typeof value} is not a JSON value`);
  }
}

function checkArray(array: unknown[], depth: number): unknown[] {
  if (Object.getPrototypeOf(array) !== Array.prototype) throw fail("type", "an array subclass is not a JSON value");
  let out: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    trail.push(i);
    // A hole reads as undefined too. JSON.stringify would write null; a sender meant something else.
    if (item === undefined) throw fail("type", "undefined inside an array");
    const checked = check(item, depth);
    trail.pop();
    if (checked !== item) (out ??= array.slice())[i] = checked;
  }
  return out ?? array;
}

function checkObject(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    throw fail("type", `${proto?.constructor?.name ? `a ${proto.constructor.name}` : "an object with a prototype"} is not a JSON value`);
  }
  const keys = Object.keys(object);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    trail.push(key);
    const checked = item === undefined ? undefined : check(item, depth);
    trail.pop();
    const goodKey = (key as StringES2024).isWellFormed() ? key : (key as StringES2024).toWellFormed();
    if (out === undefined && (item === undefined || checked !== item || goodKey !== key)) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, object[keys[j]!]);
    }
    if (out !== undefined && checked !== undefined) setOwn(out, goodKey, checked);
  }
  return out ?? object;
}

/** Assigns as an own property even for "__proto__", which JSON.parse also makes an own key. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function fail(rule: DataRule, problem: string): DataError {
  let path = "data";
  for (const key of trail) {
    if (typeof key === "number") path += `[${key}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return new DataError(rule, path, problem);
}
