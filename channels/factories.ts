// Which adapter serves each channel, with the provider settings of the mesh's config.
import { readFileSync } from "node:fs";
import type { EmailCredentials, WebPushCredentials } from "../core/channels.ts";
import type { Config } from "../core/config.ts";
import { createEmailAdapter } from "./email.ts";
import type { AdapterFactories } from "./registry.ts";
import { createWebPushAdapter } from "./web-push.ts";

export function channelFactories(config: Pick<Config, "providerTimeoutMs" | "providerCaFile">): AdapterFactories {
  const timeoutMs = config.providerTimeoutMs;
  const ca = config.providerCaFile ? readFileSync(config.providerCaFile, "utf8") : undefined;
  return {
    webpush: (credentials) => createWebPushAdapter({ credentials: credentials as WebPushCredentials, timeoutMs, ca }),
    email: (credentials) => createEmailAdapter({ credentials: credentials as EmailCredentials, timeoutMs }),
  };
}
