import { text } from "./args.ts";
import { defineCommand } from "./command.ts";
import { checkDeviceId, edgeFlags, registerDevice } from "./edge-client.ts";
import { print } from "./output.ts";

export const deviceAdd = defineCommand({
  name: "device add",
  summary: "registers a device; prints its token",
  flags: {
    device: text("ID", "the device's id; omit to have one generated", { check: checkDeviceId }),
    user: text("U", "the user the device belongs to (sends may address every device of a user)"),
    platform: text("P", "a label such as ios, android, web"),
    home: text("REGION", "the device's home region; default the edge's region (set when the device is created)"),
    ...edgeFlags,
  },
  description: [
    "Registers a device with the edge (POST /v1/devices), or re-issues the token of one that exists,",
    "and prints one line of JSON: deviceId, token (for the device's HELLO), expiresAt, epoch.",
  ].join("\n"),
  examples: ["device add --device phone-1", "device add --device tablet-7 --user alice --platform android --edge http://127.0.0.1:7700 --key pm_…"],
  async run({ flags }) {
    print(
      await registerDevice(flags, {
        ...(flags.device ? { deviceId: flags.device } : {}),
        ...(flags.user ? { userId: flags.user } : {}),
        ...(flags.platform ? { platform: flags.platform } : {}),
        ...(flags.home ? { home: flags.home } : {}),
      }),
    );
  },
});
