// A send that names a template: the notification (and email) rendered once, at send time, so a
// missing variable is a 400 now rather than a blank at delivery. The locale is the request's, else
// a single target device's own, else the template's default.
import type { Notification } from "../channels.ts";
import { PushmeshError } from "../errors.ts";
import type { Store } from "../store.ts";
import { renderTemplate } from "../templates.ts";
import type { SendRequest } from "./request.ts";

export async function renderedNotification(store: Store, appId: string, request: SendRequest, deviceIds: string[]): Promise<Notification | null> {
  if (request.template === undefined) return null;
  const template = await store.getTemplate(appId, request.template);
  if (!template) throw new PushmeshError("TEMPLATE_NOT_FOUND", `no template named ${request.template} in this app`);
  let locale = request.locale ?? null;
  if (locale === null && deviceIds.length === 1) locale = (await store.getDevice(appId, deviceIds[0]!))?.locale ?? null;
  const rendered = renderTemplate(template, { locale, vars: request.vars });
  return { title: rendered.title, body: rendered.body, email: rendered.email };
}
