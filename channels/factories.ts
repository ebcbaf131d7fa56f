// Which adapter serves each channel, with the provider settings of the mesh's config.
import { readFileSync } from "node:fs";
import type { ApnsCredentials, EmailCredentials, FcmCredentials, WebPushCredentials } from "../core/channels.ts";
import type { Config } from "../core/config.ts";
import { createApnsAdapter } from "./apns.ts";
import { createEmailAdapter } from "./email.ts";
import { createFcmAdapter } from "./fcm.ts";
import type { AdapterFactories } from "./registry.ts";
import { createWebPushAdapter } from "./web-push.ts";

type ProviderConfig = Pick<Config, "providerTimeoutMs" | "providerCaFile" | "fcmUrl" | "fcmTokenUrl" | "apnsUrl" | "apnsSandboxUrl">;

export function channelFactories(config: ProviderConfig): AdapterFactories {
  const timeoutMs = config.providerTimeoutMs;
  const ca = config.providerCaFile ? readFileSync(config.providerCaFile, "utf8") : undefined;
  return {
    webpush: (credentials) => createWebPushAdapter({ credentials: credentials as WebPushCredentials, timeoutMs, ca }),
    fcm: (credentials) => createFcmAdapter({ credentials: credentials as FcmCredentials, baseUrl: config.fcmUrl, tokenUrl: config.fcmTokenUrl, ca, timeoutMs }),
    apns: (credentials) => createApnsAdapter({ credentials: credentials as ApnsCredentials, host: config.apnsUrl, sandboxHost: config.apnsSandboxUrl, ca, timeoutMs }),
    email: (credentials) => createEmailAdapter({ credentials: credentials as EmailCredentials, timeoutMs }),
  };
}
