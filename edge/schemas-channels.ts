// The last mile's request shapes: channel endpoints of devices and users, and each provider's
// credentials. Each is checked here so a bad endpoint is a 400 naming the field, never a provider's
// refusal at delivery time.
import { z } from "@hono/zod-openapi";
import { object, rule } from "./fields.ts";

const base64url = (bytes: number, what: string) => {
  const r = rule(`must be the ${what}: ${bytes} bytes as base64url`);
  return z.string(r).regex(/^[A-Za-z0-9_-]+={0,2}$/, r).refine((s) => Math.floor((s.replace(/=+$/, "").length * 3) / 4) === bytes, r);
};
const urlRule = rule("must be an http or https URL of at most 2048 characters");
const text = (max: number, what: string) => z.string(rule(`must be ${what} of at most ${max} characters`)).min(1, rule(`must be ${what}`)).max(max, rule(`must be ${what} of at most ${max} characters`));

export const WebPushEndpointSchema = object({
  kind: z.literal("webpush", rule("must be webpush")),
  endpoint: z
    .string(urlRule)
    .max(2048, urlRule)
    .regex(/^https?:\/\/[^\s]+$/, urlRule)
    .refine((u) => URL.canParse(u), urlRule)
    .openapi({ description: "PushSubscription.endpoint" }),
  p256dh: base64url(65, "subscription's P-256 public key (keys.p256dh)"),
  auth: base64url(16, "subscription's auth secret (keys.auth)"),
}).openapi("WebPushEndpoint");
export const FcmEndpointSchema = object({ kind: z.literal("fcm", rule("must be fcm")), token: text(4096, "an FCM registration token") }).openapi("FcmEndpoint");
const hexRule = rule("must be the APNs device token as hex (64 to 200 hex digits)");
export const ApnsEndpointSchema = object({
  kind: z.literal("apns", rule("must be apns")),
  token: z.string(hexRule).regex(/^[0-9A-Fa-f]{64,200}$/, hexRule),
  topic: text(256, "the app's bundle id (apns-topic)"),
  sandbox: z.boolean(rule("must be true or false")).openapi({ description: "A token from the APNs development environment" }),
}).openapi("ApnsEndpoint");
const emailRule = rule("must be an email address of at most 254 characters");
export const EmailEndpointSchema = object({
  kind: z.literal("email", rule("must be email")),
  address: z.string(emailRule).max(254, emailRule).email(emailRule),
}).openapi("EmailEndpoint");

const endpointRule = rule("must be an endpoint whose kind is webpush, fcm, apns or email");
export const ChannelEndpointSchema = z
  .union([WebPushEndpointSchema, FcmEndpointSchema, ApnsEndpointSchema, EmailEndpointSchema], endpointRule)
  .openapi("ChannelEndpoint", {}, { unionPreferredType: "oneOf" });
export const MAX_ENDPOINTS = 20;
const listRule = rule(`must be a list of at most ${MAX_ENDPOINTS} endpoints`);
export const EndpointsSchema = object({
  endpoints: z.array(ChannelEndpointSchema, listRule).max(MAX_ENDPOINTS, listRule).openapi({ description: "Replaces the list; [] removes every endpoint" }),
}).openapi("ChannelEndpoints");

const pem = (what: string) => text(10_000, `${what} in PEM`).regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, rule(`must be ${what} in PEM`));
export const CredentialSchemas = {
  webpush: object({
    vapidPublicKey: base64url(65, "VAPID public key (uncompressed P-256 point)"),
    vapidPrivateKey: base64url(32, "VAPID private key"),
    subject: z.string(rule("must be a mailto: or https: URL")).regex(/^(mailto:|https:\/\/)\S+$/, rule("must be a mailto: or https: URL")),
  }).openapi("WebPushCredentials"),
  fcm: object({ projectId: text(128, "the Firebase project id"), clientEmail: text(256, "the service account's client_email"), privateKey: pem("the service account's private_key") }).openapi(
    "FcmCredentials",
  ),
  apns: object({ keyId: text(32, "the .p8 key's id"), teamId: text(32, "the team id"), privateKey: pem("the .p8 key") }).openapi("ApnsCredentials"),
  email: object({
    url: z
      .string(rule("must be an smtp:// or smtps:// URL"))
      .regex(/^smtps?:\/\/\S+$/, rule("must be an smtp:// or smtps:// URL"))
      .refine((u) => URL.canParse(u), rule("must be an smtp:// or smtps:// URL")),
    from: text(320, "the From address"),
  }).openapi("EmailCredentials"),
};
