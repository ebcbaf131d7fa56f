// A device on the command line: each message and topic message as one JSON line on stdout, events
// as log lines on stderr, and a state file so a restart resumes where the last run stopped.
import { PushClient } from "../../core/client/client.ts";
import { type TcpConnect, tcpTransport, webSocketTransport } from "../../core/client/transport.ts";
import { stderrLog } from "../log.ts";
import { integer, oneOf, text } from "./args.ts";
import { defineCommand } from "./command.ts";
import { callEdge, checkDeviceId, edgeFlags, optionalKeyFlag, registerDevice, topicList } from "./edge-client.ts";
import { CliError } from "./errors.ts";
import { FileStateStore } from "./file-state.ts";
import { print } from "./output.ts";

export const listen = defineCommand({
  name: "listen",
  summary: "a device that prints each message as one JSON line and resumes where it left off",
  usage: "[--device ID] [--topic T[,T…]] [--transport ws|tcp] [--state FILE] [flags]",
  flags: {
    device: text("ID", "the device's id; registered (or its token re-issued) with --key; omit for a new one", { check: checkDeviceId }),
    token: text("T", "a device token from `device add`; then no --key is needed (with --device)"),
    topic: topicList("topics to subscribe to; their messages are printed too"),
    transport: oneOf(["ws", "tcp"], "WebSocket (default) or raw TCP"),
    state: text("FILE", "where the last sequence and topic offsets are kept; default .pushmesh/listen-ID.json"),
    heartbeat: integer("S", "seconds between heartbeats this device asks for; the relay clamps it; 0 = its default", 0, 86_400),
    edge: edgeFlags.edge,
    key: optionalKeyFlag,
  },
  description: [
    "Connects as a device to the best relay the edge lists and prints, one JSON line each on stdout:",
    `  a message:        {"seq":1,"messageId":"…","data":{…}}`,
    `  a topic message:  {"topic":"news","offset":1,"messageId":"…","data":{…}}`,
    "Stop it and start it again with the same --device: it prints only what it missed. Connection",
    "events are JSON log lines on stderr; when another connection for the same device takes over,",
    "it says so there and waits before taking the device back: 2.5 to 5 s at first, twice as long",
    "each time in a row, at most a minute.",
  ].join("\n"),
  examples: ["listen --device phone-1", "listen --device phone-1 --topic news,weather --transport tcp", "listen --device phone-1 --token eyJ… --edge http://127.0.0.1:7700"],
  async run({ flags }) {
    if (flags.token && !flags.device) throw new CliError("MISSING_ARGUMENT", "--token needs --device ID (the device it was issued for)", { helpFor: "listen" });
    if (!flags.token && !flags.key) {
      throw new CliError("MISSING_ARGUMENT", "listen needs --key API_KEY (or PUSHMESH_KEY) to register the device, or --device with --token", { helpFor: "listen" });
    }
    const registered = flags.token ? null : await registerDevice(flags, flags.device ? { deviceId: flags.device } : {});
    const deviceId = registered?.deviceId ?? flags.device!;
    const token = registered?.token ?? flags.token!;
    const topics = [...new Set(flags.topic ?? [])];
    // Subscribing over HTTP before connecting (when there is a key) makes the subscription start
    // now: whatever is published once `connected` is logged is printed, with no race against SUBSCRIBE.
    if (flags.key) for (const topic of topics) await callEdge(flags, "POST", `/v1/topics/${topic}/subscribers`, { deviceIds: [deviceId] });
    const { nodes } = await callEdge<{ nodes: { ws: string; tcp: string }[] }>(flags, "GET", "/v1/nodes");
    const tcp = flags.transport === "tcp";
    const addresses = nodes.map((n) => (tcp ? n.tcp : n.ws));
    if (addresses.length === 0) throw new CliError("NO_RELAY", `the edge at ${flags.edge} lists no relay nodes (GET /v1/nodes)`);
    const client = new PushClient({
      deviceId,
      token,
      addresses,
      transport: tcp ? tcpTransport(Bun.connect as unknown as TcpConnect) : webSocketTransport(),
      heartbeat: flags.heartbeat,
      state: new FileStateStore(flags.state ?? `.pushmesh/listen-${deviceId}.json`),
      onMessage: (m) => print({ seq: m.seq, messageId: m.messageId, data: m.data }),
      onTopicMessage: (m) => print({ topic: m.topic, offset: m.offset, messageId: m.messageId, data: m.data }),
      onEvent: (event) => {
        if (event.type === "replaced") {
          const seconds = (event.retryInMs / 1000).toFixed(1);
          stderrLog("replaced", { deviceId, retryInMs: event.retryInMs, message: `another connection for device ${deviceId} took over; trying again in ${seconds} s` });
        } else stderrLog(event.type, { ...event, deviceId });
      },
    });
    await client.start();
    for (const topic of topics) client.subscribe(topic);
    const stop = () => void client.stop().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  },
});
