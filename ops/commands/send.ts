import { PRIORITY_NAMES } from "../../core/protocol.ts";
import { MAX_HORIZON_SECONDS } from "../../edge/schemas.ts";
import { integer, json, oneOf, text } from "./args.ts";
import { defineCommand } from "./command.ts";
import { callEdge, checkTopic, deviceList, edgeFlags } from "./edge-client.ts";
import { CliError } from "./errors.ts";
import { print } from "./output.ts";

export const send = defineCommand({
  name: "send",
  summary: "sends a message to devices or to a topic's subscribers",
  usage: "(--device ID[,ID…] | --topic T) --data JSON [flags]",
  flags: {
    device: deviceList("the devices to send to"),
    topic: text("T", "a topic: every device subscribed to it (instead of --device)", { check: checkTopic }),
    data: json("JSON", `the message, any JSON value: '{"title":"hi"}', '"text"', 42`, { required: true }),
    priority: oneOf(PRIORITY_NAMES, "high wakes the device at once; low waits for its next heartbeat; default normal"),
    ttl: integer("S", "seconds the message stays deliverable", 1, MAX_HORIZON_SECONDS),
    "collapse-key": text("K", "a newer message with the same key replaces an undelivered older one (devices only)"),
    ...edgeFlags,
  },
  description: [
    "Sends one message through the edge (POST /v1/messages) and prints the edge's answer as one line",
    "of JSON: the messageId and the number of targets, or, for a topic, the topic and the message's offset.",
  ].join("\n"),
  examples: [
    `send --device phone-1 --data '{"title":"hello"}'`,
    `send --device phone-1,phone-2 --data '"two at once"' --priority high --ttl 600`,
    `send --topic news --data '{"headline":"…"}'`,
  ],
  async run({ flags }) {
    const { device, topic } = flags;
    if (!device === !topic) {
      throw new CliError(device ? "INVALID_ARGUMENT" : "MISSING_ARGUMENT", "send needs --device ID[,ID…] or --topic T (one of them)", { helpFor: "send" });
    }
    if (topic && flags["collapse-key"]) throw new CliError("INVALID_ARGUMENT", "--collapse-key applies to device messages, not to --topic", { helpFor: "send" });
    const to = topic ? { topic } : device!.length === 1 ? { deviceId: device![0] } : { deviceIds: device };
    print(
      await callEdge(flags, "POST", "/v1/messages", {
        to,
        data: flags.data,
        ...(flags.priority ? { priority: flags.priority } : {}),
        ...(flags.ttl !== undefined ? { ttl: flags.ttl } : {}),
        ...(flags["collapse-key"] ? { collapseKey: flags["collapse-key"] } : {}),
      }),
    );
  },
});
