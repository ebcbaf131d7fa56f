import { expect, test } from "bun:test";
import { PushmeshError } from "./errors.ts";
import { type Template, renderTemplate, resolveLocale, validateTemplate } from "./templates.ts";

const shipped: Template = {
  name: "order-shipped",
  defaultLocale: "en",
  locales: {
    en: {
      push: { title: "Order {{order.id}} shipped", body: "Hi {{name}}{{#items}}, {{.}}{{/items}}" },
      email: { subject: "Order {{order.id}}", text: "Hi {{name}}, it is on its way.", html: "<p>Hi <b>{{name}}</b></p>{{^items}}<p>nothing</p>{{/items}}" },
    },
    pt: { push: { title: "Pedido {{order.id}} enviado" } },
    "pt-BR": { push: { title: "Pedido {{order.id}} a caminho" } },
  },
};

test("locales fall back along the chain, without regard to case", () => {
  expect(resolveLocale(shipped, "pt-BR")).toBe("pt-BR");
  expect(resolveLocale(shipped, "pt-br")).toBe("pt-BR");
  expect(resolveLocale(shipped, "pt-PT")).toBe("pt");
  expect(resolveLocale(shipped, "de-AT")).toBe("en");
  expect(resolveLocale(shipped, null)).toBe("en");
  expect(renderTemplate(shipped, { locale: "pt-PT", vars: { order: { id: 7 } } }).title).toBe("Pedido 7 enviado");
  expect(renderTemplate(shipped, { locale: "pt-BR", vars: { order: { id: 7 } } }).title).toBe("Pedido 7 a caminho");
});

test("push and email text are not escaped; email HTML is; sections and dotted names render", () => {
  const out = renderTemplate(shipped, { locale: "en", vars: { name: "<Ana & Bo>", order: { id: "A-1" }, items: ["x", "y"] } });
  expect(out).toEqual({
    locale: "en",
    title: "Order A-1 shipped",
    body: "Hi <Ana & Bo>, x, y",
    email: { subject: "Order A-1", text: "Hi <Ana & Bo>, it is on its way.", html: "<p>Hi <b>&lt;Ana &amp; Bo&gt;</b></p>" },
  });
  expect(renderTemplate(shipped, { locale: "en", vars: { name: "A", order: { id: 1 }, items: [] } }).email!.html).toContain("<p>nothing</p>");
});

test("missing variables are one 400 naming each, at render time; false, 0 and empty text count as given", () => {
  const error = (() => {
    try {
      renderTemplate(shipped, { locale: "en", vars: { name: null } });
    } catch (e) {
      return e as PushmeshError;
    }
  })();
  expect(error?.code).toBe("TEMPLATE_VARIABLES_MISSING");
  expect(error?.message).toBe("missing template variables: items, name, order.id");
  expect(() => renderTemplate(shipped, { locale: "en", vars: { name: "", order: { id: 0 }, items: false } })).not.toThrow();
});

test("a function in the vars is never called; partials, delimiter changes and bad syntax are refused, naming the field", () => {
  let called = false;
  const vars = { name: () => ((called = true), "x"), order: { id: 1 }, items: [] };
  expect(() => renderTemplate(shipped, { locale: "en", vars })).toThrow("missing template variables: name");
  expect(called).toBe(false);
  const bad = (text: string) => () => validateTemplate({ name: "t", defaultLocale: "en", locales: { en: { push: { title: text } } } });
  expect(bad("{{> other}}")).toThrow("locales.en.push.title: partials");
  expect(bad("{{=<% %>=}}")).toThrow("changing delimiters");
  expect(bad("{{#open}} never closed")).toThrow("locales.en.push.title:");
  expect(() => validateTemplate({ ...shipped, defaultLocale: "fr" })).toThrow("defaultLocale fr");
  expect(() => validateTemplate({ ...shipped, locales: { ...shipped.locales, "not a tag": {} } })).toThrow("not a locale tag");
  expect(() => validateTemplate(shipped)).not.toThrow();
});
