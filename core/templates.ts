// Templates: per locale, a push variant (title, body) and an email variant (subject, text, HTML),
// rendered with mustache, logic-less: no partials (a user's partial name would read other
// templates), no delimiter changes, and a view of plain JSON values only, so no function of the
// caller's is ever called. Push text and email text are not escaped; email HTML is.
import Mustache from "mustache";
import { PushmeshError } from "./errors.ts";

export type TemplateVariant = {
  push?: { title?: string; body?: string };
  email?: { subject: string; text: string; html?: string };
};
export type Template = { name: string; defaultLocale: string; locales: Record<string, TemplateVariant> };
export type Rendered = {
  locale: string;
  title: string | null;
  body: string | null;
  email: { subject: string; text: string; html: string | null } | null;
};

export const TEMPLATE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const LOCALE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

type Spans = ReturnType<typeof Mustache.parse>;

/** Every string of a variant, with its path for error messages. */
function fieldsOf(locale: string, v: TemplateVariant): [string, string][] {
  const out: [string, string][] = [];
  const add = (path: string, value: string | undefined) => value !== undefined && out.push([`locales.${locale}.${path}`, value]);
  add("push.title", v.push?.title);
  add("push.body", v.push?.body);
  add("email.subject", v.email?.subject);
  add("email.text", v.email?.text);
  add("email.html", v.email?.html);
  return out;
}

function parse(path: string, text: string): Spans {
  let spans: Spans;
  try {
    spans = Mustache.parse(text);
  } catch (error) {
    throw new PushmeshError("INVALID_REQUEST", `${path}: ${(error as Error).message}`, { details: [{ path, message: (error as Error).message }] });
  }
  const walk = (list: Spans) => {
    for (const span of list) {
      if (span[0] === ">") throw new PushmeshError("INVALID_REQUEST", `${path}: partials ({{> ${span[1]}}}) are not allowed`);
      if (span[0] === "=") throw new PushmeshError("INVALID_REQUEST", `${path}: changing delimiters is not allowed`);
      if (span[0] === "#" || span[0] === "^") walk(span[4] as Spans);
    }
  };
  walk(spans);
  return spans;
}

/** Refuses a template whose text does not parse or uses what a logic-less template may not. */
export function validateTemplate(t: Template): void {
  if (!(t.defaultLocale in t.locales)) throw new PushmeshError("INVALID_REQUEST", `defaultLocale ${t.defaultLocale} is not one of the template's locales`);
  for (const [locale, variant] of Object.entries(t.locales)) {
    if (!LOCALE_TAG.test(locale)) throw new PushmeshError("INVALID_REQUEST", `locales.${locale}: not a locale tag such as en, pt-BR or zh-Hant-TW`);
    for (const [path, text] of fieldsOf(locale, variant)) parse(path, text);
  }
}

/** `pt-BR` → pt-BR, pt, then the default: the first the template has, matched without regard to case. */
export function resolveLocale(t: Template, requested: string | null): string {
  const have = new Map(Object.keys(t.locales).map((l) => [l.toLowerCase(), l]));
  const parts = requested?.split("-") ?? [];
  for (let n = parts.length; n > 0; n--) {
    const found = have.get(parts.slice(0, n).join("-").toLowerCase());
    if (found) return found;
  }
  return t.defaultLocale;
}

/**
 * The variables a text needs. Names outside sections are required; a section's own name must be
 * there (false or [] is fine); names inside a section may come from its items, so they are not.
 */
function required(spans: Spans, into: Set<string>): void {
  for (const span of spans) {
    if (span[0] === "name" || span[0] === "&" || span[0] === "#" || span[0] === "^") into.add(span[1]);
  }
}

function lookup(view: Record<string, unknown>, name: string): unknown {
  if (name === ".") return view;
  let value: unknown = view;
  for (const part of name.split(".")) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** Plain JSON values only: what JSON cannot hold (functions, above all) is dropped, so mustache never calls it. */
const plain = (vars: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(vars ?? {})) as Record<string, unknown>;

const htmlEscape = (value: unknown) => Mustache.escape(String(value));
const noEscape = (value: unknown) => String(value);

/** Renders the locale's variants; a variable the texts need and `vars` lacks (or holds null) is a 400 naming each. */
export function renderTemplate(t: Template, options: { locale: string | null; vars: unknown }): Rendered {
  const locale = resolveLocale(t, options.locale);
  const variant = t.locales[locale]!;
  const view = plain(options.vars);
  const needed = new Set<string>();
  for (const [path, text] of fieldsOf(locale, variant)) required(parse(path, text), needed);
  const missing = [...needed].filter((name) => lookup(view, name) === undefined || lookup(view, name) === null).sort();
  if (missing.length > 0) {
    throw new PushmeshError("TEMPLATE_VARIABLES_MISSING", `missing template variables: ${missing.join(", ")}`, { details: { missing, locale } });
  }
  const text = (s: string | undefined) => (s === undefined ? null : Mustache.render(s, view, {}, { escape: noEscape }));
  return {
    locale,
    title: text(variant.push?.title),
    body: text(variant.push?.body),
    email: variant.email
      ? {
          subject: text(variant.email.subject)!,
          text: text(variant.email.text)!,
          html: variant.email.html === undefined ? null : Mustache.render(variant.email.html, view, {}, { escape: htmlEscape }),
        }
      : null,
  };
}
