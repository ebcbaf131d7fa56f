// Templates: per locale, a push variant (title, body, data) and an email variant (subject, text,
// HTML), in mustache kept logic-less:
// - no partials: a partial's name is looked up by the renderer, so a user-written one would read
//   other templates; no delimiter changes either, so every text reads the same way;
// - the view is a copy of the vars' plain JSON values, read through a context that follows only own
//   properties and never calls anything. mustache calls any function it finds, and a plain object
//   inherits functions (`{{constructor}}`, `{{items.map}}`): without this a template could call
//   Object.prototype's methods, and some throw.
// Push texts, push data and email text are rendered unescaped; email HTML alone is HTML-escaped.
// Escaping is passed to each render: the shared `Mustache.escape` other callers rely on is never set.
import Mustache from "mustache";
import { PushmeshError } from "./errors.ts";

export type TemplateVariant = {
  push?: { title?: string; body?: string; data?: Record<string, unknown> };
  email?: { subject: string; text: string; html?: string };
};
export type Template = { name: string; defaultLocale: string; locales: Record<string, TemplateVariant> };
export type Rendered = {
  locale: string;
  title: string | null;
  body: string | null;
  /** The variant's push data with every string in it rendered; null when the variant has none. */
  data: Record<string, unknown> | null;
  email: { subject: string; text: string; html: string | null } | null;
};

export const TEMPLATE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** BCP-47-ish: a 2-3 letter language, then subtags of 2-8 letters or digits (`en`, `pt-BR`, `zh-Hant-TW`). */
export const LOCALE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** Deeper vars are refused rather than walked: the copy recurses once per level. */
const MAX_VARS_DEPTH = 64;

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

const invalid = (path: string, message: string) => new PushmeshError("INVALID_REQUEST", `${path}: ${message}`, { details: [{ path, message }] });
const hasOwn = (value: unknown, key: string) => value !== null && (typeof value === "object" || typeof value === "string") && Object.hasOwn(value as object, key);
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value));
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named __proto__ stays a key instead of replacing the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// A writer of our own: mustache's shared one caches every text it ever parsed, without bound.
const writer = new Mustache.Writer();
(writer as unknown as { templateCache: undefined }).templateCache = undefined;
// Parsed and checked texts, so a send does not parse again: at most 500, none longer than 20,000
// characters, the oldest dropped first.
const parsed = new Map<string, Token[]>();
const CACHE_ENTRIES = 500;
const CACHE_TEXT_LIMIT = 20_000;

/** Parses a text and refuses what a logic-less template may not hold; `path` names it in errors. */
function parse(path: string, text: unknown): Token[] {
  if (typeof text !== "string") throw invalid(path, "must be text");
  const cached = parsed.get(text);
  if (cached) return cached;
  let tokens: Token[];
  try {
    tokens = writer.parse(text) as Token[];
  } catch (error) {
    throw invalid(path, (error as Error).message);
  }
  const walk = (list: Token[]) => {
    for (const [type, value, , , children] of list) {
      if (type === ">") throw invalid(path, `partials ({{> ${value}}}) are not allowed`);
      if (type === "=") throw invalid(path, "changing delimiters ({{=…=}}) is not allowed");
      if (children) walk(children);
    }
  };
  walk(tokens);
  if (text.length <= CACHE_TEXT_LIMIT) {
    if (parsed.size >= CACHE_ENTRIES) parsed.delete(parsed.keys().next().value!);
    parsed.set(text, tokens);
  }
  return tokens;
}

/** Every text of a variant with its path (`push.title`, `push.data.links[0].label`). */
function textsOf(variant: TemplateVariant): [path: string, text: unknown][] {
  const out: [string, unknown][] = [];
  const push = variant.push;
  if (push?.title !== undefined) out.push(["push.title", push.title]);
  if (push?.body !== undefined) out.push(["push.body", push.body]);
  const walkData = (path: string, value: unknown) => {
    if (typeof value === "string") out.push([path, value]);
    else if (Array.isArray(value)) value.forEach((item, i) => walkData(`${path}[${i}]`, item));
    else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) walkData(`${path}.${key}`, item);
  };
  if (push?.data !== undefined) walkData("push.data", push.data);
  if (variant.email) {
    out.push(["email.subject", variant.email.subject], ["email.text", variant.email.text]);
    if (variant.email.html !== undefined) out.push(["email.html", variant.email.html]);
  }
  return out;
}

/** Refuses a template whose name, locales or texts break the rules above, naming the field. */
export function validateTemplate(t: Template): void {
  if (typeof t.name !== "string" || !TEMPLATE_NAME.test(t.name)) throw invalid("name", "must be 1 to 64 of letters, digits and . _ -");
  if (!isPlainObject(t.locales)) throw invalid("locales", "must be an object of locales");
  const seen = new Map<string, string>();
  for (const [locale, variant] of Object.entries(t.locales)) {
    const at = `locales.${locale}`;
    if (!LOCALE_TAG.test(locale)) throw invalid(at, "not a locale tag such as en, pt-BR or zh-Hant-TW");
    const twin = seen.get(locale.toLowerCase());
    if (twin !== undefined) throw invalid(at, `the same locale as ${twin}: locales are matched without regard to case`);
    seen.set(locale.toLowerCase(), locale);
    if (!isPlainObject(variant)) throw invalid(at, "must be an object with push and/or email");
    if (variant.push !== undefined && !isPlainObject(variant.push)) throw invalid(`${at}.push`, "must be an object");
    if (variant.push?.data !== undefined && !isPlainObject(variant.push.data)) throw invalid(`${at}.push.data`, "must be a JSON object");
    if (variant.email !== undefined && !isPlainObject(variant.email)) throw invalid(`${at}.email`, "must be an object with subject and text");
    for (const [path, text] of textsOf(variant)) parse(`${at}.${path}`, text);
  }
  if (typeof t.defaultLocale !== "string" || !Object.hasOwn(t.locales, t.defaultLocale)) {
    throw invalid("defaultLocale", `${String(t.defaultLocale)} is not one of the template's locales`);
  }
}

/**
 * The tags to try, best first: the requested tag, then shorter by one subtag at a time (RFC 4647
 * lookup: a single-letter subtag left at the end goes too), then the default. `zh-Hant-TW` →
 * zh-Hant-TW, zh-Hant, zh, default. Tags repeat only once, compared without regard to case.
 */
export function localeChain(requested: string | null, defaultLocale: string): string[] {
  const chain: string[] = [];
  const add = (tag: string) => tag !== "" && !chain.some((c) => c.toLowerCase() === tag.toLowerCase()) && chain.push(tag);
  const parts = requested?.trim().split("-") ?? [];
  for (let n = parts.length; n > 0; n--) {
    if (parts[n - 1]!.length === 1) continue;
    add(parts.slice(0, n).join("-"));
  }
  add(defaultLocale);
  return chain;
}

/** The template's own spelling of the first tag along `localeChain` it has, matched without regard to case. */
export function resolveLocale(t: Template, requested: string | null): string {
  const have = new Map(Object.keys(t.locales).map((l) => [l.toLowerCase(), l]));
  for (const tag of localeChain(requested, t.defaultLocale)) {
    const found = have.get(tag.toLowerCase());
    if (found !== undefined) return found;
  }
  return t.defaultLocale;
}

/**
 * The variables a variant names, `referenced` (every name, in sections too, dotted names whole) and
 * `required`, by this rule:
 * - a name outside every section is required;
 * - a section's own name (`{{#items}}`, `{{^items}}`) outside every section is required to be
 *   there, though it may be false, 0, "" or [];
 * - a name inside a section is not required: it may come from the section's item, and whether
 *   the section renders at all depends on the data.
 * `{{.}}` names the current item, not a variable, and is in neither list. Both lists are sorted.
 * `pathPrefix` (`locales.en.`) goes before a text's path in a parse error.
 */
export function variablesOf(variant: TemplateVariant, pathPrefix = ""): { referenced: string[]; required: string[] } {
  const referenced = new Set<string>();
  const required = new Set<string>();
  const walk = (tokens: Token[], inSection: boolean) => {
    for (const [type, name, , , children] of tokens) {
      if (!["name", "&", "#", "^"].includes(type) || name === ".") {
        if (children) walk(children, true);
        continue;
      }
      referenced.add(name);
      if (!inSection) required.add(name);
      if (children) walk(children, true);
    }
  };
  for (const [path, text] of textsOf(variant)) walk(parse(`${pathPrefix}${path}`, text), false);
  return { referenced: [...referenced].sort(), required: [...required].sort() };
}

/** A name resolved against one view by own properties only; `found` false when it is not there. */
function ownPath(view: unknown, name: string): { found: boolean; value?: unknown } {
  if (name === ".") return { found: true, value: view };
  const parts = name.split(".");
  // As mustache: a plain name is looked up on objects only; a dotted one may end on a string's own property (`name.length`).
  if (parts.length === 1 && (view === null || typeof view !== "object")) return { found: false };
  let value = view;
  for (const part of parts) {
    if (!hasOwn(value, part)) return { found: false };
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === "function" ? { found: false } : { found: true, value };
}

/** mustache's context stack, reading own properties only and calling nothing. */
class JsonContext extends Mustache.Context {
  override push(view: unknown): Mustache.Context {
    return new JsonContext(view, this);
  }
  override lookup(name: string): unknown {
    for (let context: Mustache.Context | undefined = this; context; context = context.parent) {
      const { found, value } = ownPath(context.view, name);
      if (found) return value;
    }
    return undefined;
  }
}

/** A copy of the JSON values in `value`: functions, getters, symbols, class instances and cycles are left out, never read or called. */
function plainJson(value: unknown, depth: number, ancestors: object[]): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "object" || ancestors.includes(value)) return undefined;
  if (depth > MAX_VARS_DEPTH) throw invalid("vars", `nested deeper than ${MAX_VARS_DEPTH} levels`);
  const inner = [...ancestors, value];
  const own = (key: string) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return descriptor && "value" in descriptor ? plainJson(descriptor.value, depth + 1, inner) : undefined;
  };
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => own(String(i)) ?? null);
  if (!isPlainObject(value)) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = own(key);
    if (item !== undefined) setOwn(copy, key, item);
  }
  return copy;
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;" };
const htmlEscape = (value: unknown) => String(value).replace(/[&<>"'`=/]/g, (c) => HTML_ENTITIES[c]!);
const noEscape = (value: unknown) => String(value);

function renderText(path: string, text: string, view: Record<string, unknown>, escape: (value: unknown) => string): string {
  return writer.renderTokens(parse(path, text) as unknown as string[][], new JsonContext(view), undefined, text, { escape });
}

function renderData(path: string, value: unknown, view: Record<string, unknown>): unknown {
  if (typeof value === "string") return renderText(path, value, view, noEscape);
  if (Array.isArray(value)) return value.map((item, i) => renderData(`${path}[${i}]`, item, view));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setOwn(out, key, renderData(`${path}.${key}`, item, view));
  return out;
}

/**
 * Renders the variant of the locale `resolveLocale` picks. Every required variable (see
 * `variablesOf`) that `vars` lacks or holds as null is named, sorted, in one
 * TEMPLATE_VARIABLES_MISSING; false, 0 and "" count as given.
 */
export function renderTemplate(t: Template, options: { locale: string | null; vars?: unknown }): Rendered {
  const locale = resolveLocale(t, options.locale);
  const variant = Object.hasOwn(t.locales, locale) ? t.locales[locale] : undefined;
  if (!variant) throw invalid("defaultLocale", `${locale} is not one of the template's locales`);
  if (options.vars !== undefined && options.vars !== null && !isPlainObject(options.vars)) throw invalid("vars", "must be a JSON object");
  const view = (plainJson(options.vars ?? {}, 0, []) ?? {}) as Record<string, unknown>;
  const at = `locales.${locale}`;
  const missing = variablesOf(variant, `${at}.`).required.filter((name) => {
    const { found, value } = ownPath(view, name);
    return !found || value === null || value === undefined;
  });
  if (missing.length > 0) {
    throw new PushmeshError("TEMPLATE_VARIABLES_MISSING", `missing template variables: ${missing.join(", ")}`, { details: { missing, locale } });
  }
  const text = (path: string, s: string | undefined) => (s === undefined ? null : renderText(`${at}.${path}`, s, view, noEscape));
  const email = variant.email;
  return {
    locale,
    title: text("push.title", variant.push?.title),
    body: text("push.body", variant.push?.body),
    data: variant.push?.data === undefined ? null : (renderData(`${at}.push.data`, variant.push.data, view) as Record<string, unknown>),
    email: email
      ? {
          subject: text("email.subject", email.subject)!,
          text: text("email.text", email.text)!,
          html: email.html === undefined ? null : renderText(`${at}.email.html`, email.html, view, htmlEscape),
        }
      : null,
  };
}
