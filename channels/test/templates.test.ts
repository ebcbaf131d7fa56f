// Templates end to end: three locales with fallback along the chain, taken from the device when the
// send names none; a missing variable refused at send time, naming it; the email variant escaped
// in HTML only; changes in the audit log.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";
import { startSmtpReceiver } from "../../test-support/receivers/smtp-receiver.ts";

const template = {
  defaultLocale: "en",
  locales: {
    en: { push: { title: "Order {{order}} shipped" }, email: { subject: "Order {{order}} shipped", text: "Hi {{name}}", html: "<p>Hi {{name}}</p>" } },
    pt: { push: { title: "Pedido {{order}} enviado" }, email: { subject: "Pedido {{order}} enviado", text: "Olá {{name}}" } },
    "pt-BR": { push: { title: "Pedido {{order}} a caminho" }, email: { subject: "Pedido {{order}} a caminho", text: "Oi {{name}}" } },
  },
};

test("a templated send renders in each device's locale, falls back along the chain, and reaches email escaped only in HTML", async () => {
  await using smtp = await startSmtpReceiver();
  await using mesh = await startTestMesh();
  await mesh.api("PUT", "/v1/app/channels/email", { url: smtp.url, from: "shop@example.com" });
  expect((await mesh.api("PUT", "/v1/templates/shipped", template)).status).toBe(200);
  for (const [deviceId, locale] of [["br", "pt-BR"], ["pt", "pt-PT"], ["de", "de-AT"]] as const) {
    await mesh.api("POST", "/v1/devices", { deviceId, locale });
    await mesh.api("PUT", `/v1/devices/${deviceId}/channels`, { endpoints: [{ kind: "email", address: `${deviceId}@example.com` }] });
    const sent = await mesh.api("POST", "/v1/messages", {
      to: { deviceId },
      data: null,
      template: "shipped",
      vars: { order: 7, name: "<Ana>" },
      fallback: { after: 0, channels: ["email"] },
    });
    expect(sent.status).toBe(202);
  }
  const deadline = Date.now() + 15_000;
  while (smtp.mails.length < 3 && Date.now() < deadline) await Bun.sleep(20);
  const byTo = Object.fromEntries(smtp.mails.map((m) => [m.to, m]));
  expect(byTo["br@example.com"]).toMatchObject({ subject: "Pedido 7 a caminho", html: null });
  expect(byTo["br@example.com"]!.text.trim()).toBe("Oi <Ana>");
  expect(byTo["pt@example.com"]!.subject).toBe("Pedido 7 enviado");
  expect(byTo["de@example.com"]).toMatchObject({ subject: "Order 7 shipped", html: "<p>Hi &lt;Ana&gt;</p>" });
  expect(byTo["de@example.com"]!.text.trim()).toBe("Hi <Ana>");
  // The request's locale wins over the device's.
  const preview = await mesh.api("POST", "/v1/templates/shipped/render", { vars: { order: 8, name: "Bo" }, locale: "pt" });
  expect(preview.body).toMatchObject({ locale: "pt", title: "Pedido 8 enviado" });
});

test("missing variables, an unknown template and a template that does not parse are refused by name; changes are audited", async () => {
  await using mesh = await startTestMesh();
  await mesh.api("PUT", "/v1/templates/shipped", template);
  await mesh.device("d");
  const missing = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, template: "shipped", vars: { name: "x" } });
  expect(missing.status).toBe(400);
  expect(missing.body.error).toMatchObject({ code: "TEMPLATE_VARIABLES_MISSING", details: { missing: ["order"] } });
  expect(await mesh.store.latestSeq(mesh.appId, "d")).toBe(0);
  expect((await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, template: "nope" })).body.error.code).toBe("TEMPLATE_NOT_FOUND");
  const both = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, template: "shipped", notification: { title: "x" } });
  expect(both.body.error.message).toContain("notification");
  const broken = await mesh.api("PUT", "/v1/templates/broken", { defaultLocale: "en", locales: { en: { push: { title: "{{#open}}" } } } });
  expect(broken.status).toBe(400);
  expect(broken.body.error.message).toContain("locales.en.push.title");
  expect((await mesh.api("GET", "/v1/templates")).body.templates.map((t: { name: string }) => t.name)).toEqual(["shipped"]);
  expect((await mesh.api("DELETE", "/v1/templates/shipped")).status).toBe(204);
  expect((await mesh.api("GET", "/v1/templates/shipped")).body.error.code).toBe("TEMPLATE_NOT_FOUND");
  const actions = ((await mesh.api("GET", "/v1/app/audit")).body.entries as { action: string; target: string }[]).map((e) => `${e.action} ${e.target}`);
  expect(actions).toContain("template.changed shipped");
  expect(actions).toContain("template.deleted shipped");
});
