// The building blocks of every request schema: each field states its rule once, in plain words,
// and that sentence is the error for every way a value can break it ("must be an integer from 0
// to 10000", never zod's "received NaN"). One schema per kind of id, reused wherever that id
// appears, so a path parameter, a body field and /openapi.json cannot disagree.
import { z } from "@hono/zod-openapi";
import { LOCALE_TAG, TEMPLATE_NAME } from "../core/templates.ts";
import { TOPIC_PATTERN } from "../core/protocol.ts";

/** The error option that reports `words` for any failure, and "is required" for a missing value. */
export const rule = (words: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : words) });

/**
 * Printable: no control characters (U+0000–U+001F, U+007F–U+009F) and no unpaired surrogates
 * (they cannot be stored as UTF-8 and would come back altered). Written so that it means the
 * same with or without the regular expression's `u` flag, as JSON Schema validators differ.
 */
export const PRINTABLE_PATTERN = /^(?:[^\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$/;

/** Lengths count Unicode code points, as JSON Schema's minLength and maxLength do. */
const codePoints = (text: string) => [...text].length;

/** 1 to `max` printable characters. */
export function printable(max: number, what = "printable characters") {
  const r = rule(`must be 1 to ${max} ${what} (no control characters)`);
  return z
    .string(r)
    .min(1, r)
    .regex(PRINTABLE_PATTERN, r)
    .refine((s) => codePoints(s) <= max, r)
    .openapi({ maxLength: max });
}

/** 1 to `max` characters from a fixed set, named in `charset`. */
export function restricted(max: number, pattern: RegExp, charset: string) {
  const r = rule(`must be 1 to ${max} characters: ${charset}`);
  return z.string(r).min(1, r).max(max, r).regex(pattern, r);
}

export const DeviceIdSchema = restricted(128, /^[A-Za-z0-9._:@-]+$/, "letters, digits and . _ : @ -").openapi("DeviceId", {
  description: "A device's id, chosen by the app (or generated at registration)",
  example: "phone-1",
});
export const UserIdSchema = printable(128).openapi("UserId", { description: "The app's id for the person owning devices", example: "user-7" });
export const TopicSchema = restricted(128, TOPIC_PATTERN, "letters, digits and . _ : -").openapi("Topic", { example: "match-7" });
export const CategorySchema = restricted(64, /^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : -").openapi("Category", {
  description: "A label the sender chooses (e.g. promo, chat); mutes and frequency caps name it",
  example: "promo",
});
export const CollapseKeySchema = printable(128).openapi("CollapseKey", {
  description: "A newer message with the same key replaces an undelivered older one on the same device",
});
export const IdempotencyKeySchema = printable(128).openapi("IdempotencyKey", {
  description: "Repeating a send with the same key returns the first answer and never makes a second message",
});
const messageIdRule = rule("must be a message id: a UUID as the send answered it");
export const MessageIdSchema = z
  .string(messageIdRule)
  .regex(/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/, messageIdRule)
  .openapi("MessageId", { format: "uuid", example: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" });
export const NodeIdSchema = printable(64).openapi("NodeId", { description: "A relay's nodeId", example: "relay-1" });
export const RegionSchema = printable(64).openapi("Region", { example: "eu-west" });
const localeRule = rule("must be a locale tag such as en, pt-BR or zh-Hant-TW");
export const LocaleSchema = z.string(localeRule).max(35, localeRule).regex(LOCALE_TAG, localeRule).openapi("Locale", { example: "pt-BR" });
export const TemplateNameSchema = restricted(64, TEMPLATE_NAME, "letters, digits and . _ -").openapi("TemplateName", { example: "order-shipped" });
export const PlatformSchema = printable(32).openapi({ description: "Free text, e.g. ios, android, web", example: "ios" });

/**
 * A named schema or null. Not `.nullable()`: on a schema with its own component the generator
 * drops the null, or keeps it where the $ref forbids it. A failure reports the schema's own rule.
 */
export function orNull<T extends z.ZodType>(schema: T) {
  const inner = (input: unknown) => schema.safeParse(input).error?.issues[0]?.message ?? "must be null";
  return z.union([schema, z.null()], { error: (issue) => (issue.input === undefined ? "is required" : inner(issue.input)) });
}

/** An integer in [min, max]. */
export function integer(min: number, max: number) {
  const r = rule(`must be an integer from ${min} to ${max}`);
  return z.number(r).int(r).min(min, r).max(max, r);
}

/** A query parameter's text read as an integer in [min, max]; anything but plain digits fails the rule. */
export function queryInteger(min: number, max: number) {
  return z.preprocess((v) => (typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v), integer(min, max));
}

export const booleanField = () => z.boolean(rule("must be true or false"));

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, rule(`must be one of ${values.join(", ")}`));
}

const INSTANT_RULE = "must be an RFC 3339 date-time with a time zone, or milliseconds since the epoch";

/** A point in time in a body: RFC 3339 text or ms since the epoch. */
export function instant() {
  const r = rule(INSTANT_RULE);
  return z.union([z.iso.datetime({ offset: true, ...r }), z.number(r).int(r).min(0, r)], r);
}

/** A point in time in a query: RFC 3339 text, or digits read as ms since the epoch. */
export function queryInstant() {
  return z.preprocess((v) => (typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v), instant());
}

/** The shape of a JSON object; unknown fields are refused by name (see edge/validation.ts). */
export function object<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, rule("must be a JSON object"));
}

/** A route's query: only the parameters it names; any other is refused by name. */
export function query<T extends z.core.$ZodLooseShape>(shape: T = {} as T) {
  return z.strictObject(shape, rule("must be query parameters"));
}
