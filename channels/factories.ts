// Which adapter serves each channel, with the provider settings of the mesh's config.
import type { Config } from "../core/config.ts";
import type { EmailCredentials } from "../core/channels.ts";
import { createEmailAdapter } from "./email.ts";
import type { AdapterFactories } from "./registry.ts";

export function channelFactories(config: Pick<Config, "providerTimeoutMs">): AdapterFactories {
  const timeoutMs = config.providerTimeoutMs;
  return {
    email: (credentials) => createEmailAdapter({ credentials: credentials as EmailCredentials, timeoutMs }),
  };
}
