import { expect, test } from "bun:test";
import Mustache from "mustache";
import { PushmeshError } from "./errors.ts";
import { localeChain, renderTemplate, resolveLocale, type Template, type TemplateVariant, validateTemplate, variablesOf } from "./templates.ts";

const shipped: Template = {
  name: "order-shipped",
  defaultLocale: "en",
  locales: {
    en: {
      push: { title: "Order {{order.id}} shipped", body: "Hi {{user.name}}{{#items}}, {{.}}{{/items}}", data: { url: "/orders/{{order.id}}", n: 3, tags: ["{{user.name}}", null] } },
      email: { subject: "Order {{order.id}} for {{user.name}}", text: "Hi {{user.name}}, it is on its way.", html: "<p>Hi <b>{{user.name}}</b></p>{{^items}}<p>nothing</p>{{/items}}" },
    },
    pt: { push: { title: "Pedido {{order.id}} enviado" } },
    "pt-BR": { push: { title: "Pedido {{order.id}} a caminho" } },
  },
};
const vars = { user: { name: "Ana" }, order: { id: 7 }, items: ["x", "y"] };

/** The PushmeshError `run` throws; fails the test when it throws nothing or something else. */
function thrown(run: () => unknown): PushmeshError {
  try {
    run();
  } catch (error) {
    if (error instanceof PushmeshError) return error;
    throw error;
  }
  throw new Error("expected a PushmeshError");
}
const oneText = (title: string): Template => ({ name: "t", defaultLocale: "en", locales: { en: { push: { title } } } });
const titleOf = (title: string, v: unknown) => renderTemplate(oneText(title), { locale: null, vars: v }).title;

test("the locale chain drops one subtag at a time, then the default, without repeats", () => {
  expect(localeChain("pt-BR", "en")).toEqual(["pt-BR", "pt", "en"]);
  expect(localeChain("zh-Hant-TW", "en")).toEqual(["zh-Hant-TW", "zh-Hant", "zh", "en"]);
  expect(localeChain("EN-gb", "en")).toEqual(["EN-gb", "EN"]);
  expect(localeChain("en-x-twain", "fr")).toEqual(["en-x-twain", "en", "fr"]);
  expect(localeChain(null, "en")).toEqual(["en"]);
  expect(localeChain("", "en")).toEqual(["en"]);
});

test("three locales fall back pt-BR → pt → en, matched without regard to case", () => {
  expect(resolveLocale(shipped, "pt-BR")).toBe("pt-BR");
  expect(resolveLocale(shipped, "PT-br")).toBe("pt-BR");
  expect(resolveLocale(shipped, "pt-PT")).toBe("pt");
  expect(resolveLocale(shipped, "PT")).toBe("pt");
  expect(resolveLocale(shipped, "de-AT")).toBe("en");
  expect(resolveLocale(shipped, null)).toBe("en");
  expect(resolveLocale({ ...shipped, locales: { "EN-us": {}, "Pt-Br": {} }, defaultLocale: "EN-us" }, "pt-br")).toBe("Pt-Br");
  expect(renderTemplate(shipped, { locale: "pt-br", vars }).title).toBe("Pedido 7 a caminho");
  expect(renderTemplate(shipped, { locale: "pt-PT", vars }).title).toBe("Pedido 7 enviado");
  const en = renderTemplate(shipped, { locale: "de", vars });
  expect(en.locale).toBe("en");
  expect(en.title).toBe("Order 7 shipped");
  // A locale found along the chain is used whole: pt has no email, so the render has none.
  expect(renderTemplate(shipped, { locale: "pt", vars: { order: { id: 1 } } })).toEqual({ locale: "pt", title: "Pedido 1 enviado", body: null, data: null, email: null });
});

test("only email HTML is escaped: <b> in a var stays <b> in title, body, data, subject and text", () => {
  const out = renderTemplate(shipped, { locale: "en", vars: { ...vars, user: { name: "<b>Ana & 'Bo'</b>" } } });
  expect(out).toEqual({
    locale: "en",
    title: "Order 7 shipped",
    body: "Hi <b>Ana & 'Bo'</b>, x, y",
    data: { url: "/orders/7", n: 3, tags: ["<b>Ana & 'Bo'</b>", null] },
    email: {
      subject: "Order 7 for <b>Ana & 'Bo'</b>",
      text: "Hi <b>Ana & 'Bo'</b>, it is on its way.",
      html: "<p>Hi <b>&lt;b&gt;Ana &amp; &#39;Bo&#39;&lt;&#x2F;b&gt;</b></p>",
    },
  });
  // Escaping is per render: mustache's shared escape is untouched, so another user of mustache still escapes.
  expect(Mustache.render("{{x}}", { x: "<i>" })).toBe("&lt;i&gt;");
});

test("sections iterate items and read names from the item, then from outside; inverted sections render on false and []", () => {
  const list: Template = oneText("{{#items}}{{name}}×{{qty}} for {{user}}; {{/items}}{{^items}}empty{{/items}}{{#vip}}VIP {{user}}{{/vip}}");
  const render = (v: Record<string, unknown>) => renderTemplate(list, { locale: "en", vars: { user: "Ana", ...v } }).title;
  expect(render({ items: [{ name: "tea", qty: 2 }, { name: "cup", qty: 0 }], vip: false })).toBe("tea×2 for Ana; cup×0 for Ana; ");
  expect(render({ items: [], vip: { since: 2020 } })).toBe("emptyVIP Ana");
  expect(render({ items: false, vip: true })).toBe("emptyVIP Ana");
  // An object section pushes the object, a name inside it missing from both renders empty, not an error.
  expect(titleOf("{{#order}}#{{id}} {{note}}{{/order}}", { order: { id: 9 } })).toBe("#9 ");
});

test("dotted names reach into objects, arrays and a string's length", () => {
  expect(titleOf("{{user.name}} {{user.address.city}} {{items.0}} {{items.length}} {{user.name.length}}", { user: { name: "Ana", address: { city: "Porto" } }, items: ["a", "b"] })).toBe(
    "Ana Porto a 2 3",
  );
});

test("variablesOf lists every name and requires those outside sections, and section names themselves", () => {
  expect(variablesOf(shipped.locales.en!)).toEqual({ referenced: ["items", "order.id", "user.name"], required: ["items", "order.id", "user.name"] });
  const nested: TemplateVariant = { push: { title: "{{a}} {{#list}}{{b}}{{#inner}}{{c.d}}{{/inner}}{{/list}} {{^e}}{{f}}{{/e}}{{{g}}}{{.}}" } };
  expect(variablesOf(nested)).toEqual({ referenced: ["a", "b", "c.d", "e", "f", "g", "inner", "list"], required: ["a", "e", "g", "list"] });
});

test("missing variables at render time: one error naming each, sorted; null counts as missing, false, 0 and '' as given", () => {
  const error = thrown(() => renderTemplate(shipped, { locale: "en", vars: { user: { name: null }, order: {} } }));
  expect(error.code).toBe("TEMPLATE_VARIABLES_MISSING");
  expect(error.status).toBe(400);
  expect(error.message).toBe("missing template variables: items, order.id, user.name");
  expect(error.details).toEqual({ missing: ["items", "order.id", "user.name"], locale: "en" });
  expect(thrown(() => renderTemplate(shipped, { locale: "pt-BR", vars: undefined })).message).toBe("missing template variables: order.id");
  expect(renderTemplate(shipped, { locale: "en", vars: { user: { name: "" }, order: { id: 0 }, items: false } }).body).toBe("Hi ");
  expect(titleOf("{{flag}}", { flag: false })).toBe("false");
  expect(thrown(() => titleOf("x", ["not", "an", "object"])).message).toBe("vars: must be a JSON object");
});

test("a function in the vars is never called, nor a getter, nor toJSON, nor anything a plain object inherits", () => {
  const calls: string[] = [];
  const hostile = {
    name: () => (calls.push("name"), "x"),
    order: { id: () => (calls.push("order.id"), 1) },
    get items() {
      calls.push("items getter");
      return ["x"];
    },
    obj: { toJSON: () => (calls.push("toJSON"), {}), ok: 1 },
  };
  expect(thrown(() => titleOf("{{name}} {{order.id}} {{#items}}{{.}}{{/items}} {{obj.ok}}", hostile)).message).toBe("missing template variables: items, name, order.id");
  expect(titleOf("{{#name}}never{{/name}}{{obj.ok}}", { name: false, obj: hostile.obj })).toBe("1");
  // Inherited members are not variables: a plain object's constructor, an array's map.
  expect(thrown(() => titleOf("{{constructor}}{{toString}}{{items.map}}{{__defineGetter__}}", { items: [1] })).message).toBe(
    "missing template variables: __defineGetter__, constructor, items.map, toString",
  );
  expect(titleOf("{{#items}}{{constructor}}{{valueOf}}|{{/items}}", { items: [{}, "s"] })).toBe("||");
  expect(calls).toEqual([]);
});

test("a var named __proto__ is a plain key: it renders, and no prototype changes", () => {
  const view = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": 1}') as Record<string, unknown>;
  expect(titleOf("{{__proto__.polluted}} {{a}}", view)).toBe("yes 1");
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test("partials and delimiter changes are refused, in sections too and at render; parse errors name the field", () => {
  const refused = (text: string) => thrown(() => validateTemplate(oneText(text))).message;
  expect(refused("{{> other}}")).toBe("locales.en.push.title: partials ({{> other}}) are not allowed");
  expect(refused("{{#a}}{{^b}}{{>other}}{{/b}}{{/a}}")).toStartWith("locales.en.push.title: partials");
  expect(refused("{{=<% %>=}}<% x %>")).toBe("locales.en.push.title: changing delimiters ({{=…=}}) is not allowed");
  expect(thrown(() => titleOf("{{> other}}", {})).message).toStartWith("locales.en.push.title: partials");
  const broken = (email: TemplateVariant["email"]) => thrown(() => validateTemplate({ name: "t", defaultLocale: "pt-BR", locales: { "pt-BR": { email } } }));
  const unclosed = broken({ subject: "Olá {{nome", text: "ok" });
  expect(unclosed.code).toBe("INVALID_REQUEST");
  expect(unclosed.message).toStartWith("locales.pt-BR.email.subject: Unclosed tag");
  expect(unclosed.details).toEqual([{ path: "locales.pt-BR.email.subject", message: expect.stringContaining("Unclosed tag") }]);
  expect(broken({ subject: "ok", text: "ok", html: "{{#open}}" }).message).toStartWith('locales.pt-BR.email.html: Unclosed section "open"');
  expect(broken({ subject: "ok", text: "{{/close}}" }).message).toStartWith('locales.pt-BR.email.text: Unopened section "close"');
  const inData = thrown(() => validateTemplate({ name: "t", defaultLocale: "en", locales: { en: { push: { data: { links: [{ label: "{{x" }] } } } } }));
  expect(inData.message).toStartWith("locales.en.push.data.links[0].label: Unclosed tag");
});

test("names, locale tags and the default locale are checked", () => {
  expect(() => validateTemplate(shipped)).not.toThrow();
  expect(() => validateTemplate({ ...shipped, locales: { ...shipped.locales, "zh-Hant-TW": { push: { body: "{{x}}" } } } })).not.toThrow();
  const refused = (t: Template) => thrown(() => validateTemplate(t)).message;
  expect(refused({ ...shipped, name: "" })).toStartWith("name: ");
  expect(refused({ ...shipped, name: "a".repeat(65) })).toStartWith("name: ");
  expect(refused({ ...shipped, name: "a/b" })).toStartWith("name: ");
  expect(() => validateTemplate({ ...shipped, name: "A.b_c-9".padEnd(64, "x") })).not.toThrow();
  expect(refused({ ...shipped, defaultLocale: "fr" })).toBe("defaultLocale: fr is not one of the template's locales");
  expect(refused({ ...shipped, defaultLocale: "constructor" })).toBe("defaultLocale: constructor is not one of the template's locales");
  expect(refused({ ...shipped, locales: { ...shipped.locales, "not a tag": {} } })).toStartWith("locales.not a tag: not a locale tag");
  expect(refused({ ...shipped, locales: { ...shipped.locales, "PT-br": {} } })).toBe("locales.PT-br: the same locale as pt-BR: locales are matched without regard to case");
  expect(refused({ ...shipped, locales: { en: { push: { data: ["x"] as unknown as Record<string, unknown> } } } })).toBe("locales.en.push.data: must be a JSON object");
  expect(refused({ ...shipped, locales: { en: { email: { subject: "s" } as { subject: string; text: string } } } })).toBe("locales.en.email.text: must be text");
});

test("vars nested past 64 levels are refused rather than walked", () => {
  let deep: unknown = "bottom";
  for (let i = 0; i < 100; i++) deep = { d: deep };
  expect(thrown(() => titleOf("x", { deep })).message).toBe("vars: nested deeper than 64 levels");
});

test("a large template renders whole and correct", () => {
  const names = Array.from({ length: 500 }, (_, i) => `v${i}`);
  const html = `${names.map((n) => `<td>{{${n}}}</td>`).join("")}{{#rows}}<tr><td>{{id}}</td><td>{{label}}</td><td>{{v0}}</td></tr>{{/rows}}`;
  const big: Template = { name: "big", defaultLocale: "en", locales: { en: { email: { subject: "{{v1}}", text: names.map((n) => `{{${n}}}`).join(" "), html } } } };
  validateTemplate(big);
  const view: Record<string, unknown> = Object.fromEntries(names.map((n, i) => [n, i % 2 ? `<${i}>` : i]));
  view.rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, label: `r&${i}` }));
  const out = renderTemplate(big, { locale: "en", vars: view });
  const expectedText = names.map((_, i) => (i % 2 ? `<${i}>` : String(i))).join(" ");
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const expectedHtml =
    names.map((_, i) => `<td>${i % 2 ? esc(`<${i}>`) : i}</td>`).join("") + Array.from({ length: 5000 }, (_, i) => `<tr><td>${i}</td><td>r&amp;${i}</td><td>0</td></tr>`).join("");
  expect(out.email).toEqual({ subject: "<1>", text: expectedText, html: expectedHtml });
  // Twice more: the second and third renders use the parsed texts and give the same answer.
  expect(renderTemplate(big, { locale: "en", vars: view })).toEqual(out);
  expect(renderTemplate(big, { locale: "en", vars: view })).toEqual(out);
});
