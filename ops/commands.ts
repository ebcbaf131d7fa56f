// The CLI's commands. Operator commands open the store directly; device and send commands speak
// HTTP to an edge, as any back end would.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type ClientState, type ClientStateStore, PushClient } from "../core/client/client.ts";
import { tcpTransport, webSocketTransport, type TcpConnect } from "../core/client/transport.ts";
import { CONFIG_FLAGS, configFrom } from "./config-args.ts";
import { openStore } from "../store/open.ts";
import { stderrLog } from "./log.ts";
import { startCluster } from "./cluster.ts";
import { ensureDemoApp, startMesh } from "./mesh.ts";
import { runEdgeProcess, runRelayProcess } from "./processes.ts";

type Flags = Record<string, string | undefined>;
type Command = (args: string[], flags: Flags) => Promise<void>;

export const COMMAND_FLAGS = Object.fromEntries(
  [...CONFIG_FLAGS, "edge", "key", "device", "user", "platform", "data", "priority", "ttl", "collapse-key", "transport", "state", "token", "regions", "relays-per-region", "dir"].map(
    (name) => [name, { type: "string" as const }],
  ),
);

export const USAGE = `usage: npm run pushmesh -- <command> [flags]

  dev                 the whole mesh in one process; prints one ready line of JSON
                      --db file:path  --host  --edge-port  --ws-port  --tcp-port  (0 = any free port)
  relay               one relay node of a distributed mesh (--region --node-id --db --db-sync-url --engine redis --redis-url)
  edge                one edge of a distributed mesh (--region --db --db-sync-url --engine redis|rest …)
  cluster             a local multi-region topology: --regions a,b,c --relays-per-region 2 [--dir DIR]
  migrate             apply migrations/ to --db
  app create NAME     create an app; prints its id and an API key with every scope
  node list           the relay registry: id, region, addresses, load, draining
  node drain ID       mark a relay draining: it sends its devices elsewhere in paced waves
  node undrain ID     let a drained relay accept devices again
  device add          register a device; prints its token   [--device ID] [--user U] [--platform P]
  send                send a message   --device ID[,ID...] --data JSON [--priority high|normal|low] [--ttl S] [--collapse-key K]
  listen              be a device: print each message as one JSON line; resumes by --device
                      [--device ID] [--transport ws|tcp] [--state FILE] [--token T] [--heartbeat S]

  device add, send and listen talk to an edge: --edge URL --key API_KEY (or PUSHMESH_EDGE, PUSHMESH_KEY).
  Every config flag also reads PUSHMESH_<FLAG>, e.g. PUSHMESH_DB, PUSHMESH_EDGE_PORT.
`;

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const dev: Command = async (_args, flags) => {
  const config = configFrom(flags, process.env);
  const mesh = await startMesh(config, stderrLog);
  const shutdown = (signal: string) => {
    stderrLog("shutdown", { signal });
    mesh.stop(config.shutdownGraceMs).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Handlers go in before the ready line: whoever reads it may signal at once.
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  const { appId, apiKey } = await ensureDemoApp(mesh.store);
  print({ ready: true, edge: mesh.edge, ws: mesh.ws, tcp: mesh.tcp, appId, apiKey });
};

const migrate: Command = async (_args, flags) => {
  const config = configFrom(flags, process.env);
  const store = await openStore(config);
  store.close();
  print({ migrated: true, db: config.db });
};

const app: Command = async ([sub, name], flags) => {
  if (sub !== "create" || !name) throw new Error("usage: app create NAME");
  const store = await openStore(configFrom(flags, process.env));
  print(await store.createApp(name));
  store.close();
};

function edgeOf(flags: Flags): { edge: string; key: string } {
  const edge = flags.edge ?? process.env.PUSHMESH_EDGE;
  const key = flags.key ?? process.env.PUSHMESH_KEY;
  if (!edge || !key) throw new Error("this command needs --edge URL and --key API_KEY (or PUSHMESH_EDGE / PUSHMESH_KEY)");
  return { edge: edge.replace(/\/$/, ""), key };
}

async function call(flags: Flags, method: string, path: string, body?: unknown): Promise<unknown> {
  const { edge, key } = edgeOf(flags);
  const res = await fetch(`${edge}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const registerDevice = (flags: Flags) =>
  call(flags, "POST", "/v1/devices", {
    ...(flags.device ? { deviceId: flags.device } : {}),
    ...(flags.user ? { userId: flags.user } : {}),
    ...(flags.platform ? { platform: flags.platform } : {}),
  }) as Promise<{ deviceId: string; token: string; expiresAt: number }>;

const device: Command = async ([sub], flags) => {
  if (sub !== "add") throw new Error("usage: device add [--device ID] [--user U] [--platform P]");
  print(await registerDevice(flags));
};

const send: Command = async (_args, flags) => {
  if (!flags.device) throw new Error("send needs --device ID[,ID...]");
  let data: unknown;
  try {
    data = JSON.parse(flags.data ?? "null");
  } catch {
    throw new Error("--data must be JSON");
  }
  const ids = flags.device.split(",");
  print(
    await call(flags, "POST", "/v1/messages", {
      to: ids.length === 1 ? { deviceId: ids[0] } : { deviceIds: ids },
      data,
      ...(flags.priority ? { priority: flags.priority } : {}),
      ...(flags.ttl ? { ttl: Number(flags.ttl) } : {}),
      ...(flags["collapse-key"] ? { collapseKey: flags["collapse-key"] } : {}),
    }),
  );
};

/** Client state in a JSON file, replaced atomically so a crash leaves the old or the new state. */
export class FileStateStore implements ClientStateStore {
  constructor(private readonly path: string) {}
  load(): ClientState | null {
    try {
      return JSON.parse(readFileSync(this.path, "utf8")) as ClientState;
    } catch {
      return null;
    }
  }
  save(state: ClientState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(state));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

const listen: Command = async (_args, flags) => {
  const registered = flags.token ? null : await registerDevice(flags);
  const deviceId = flags.device ?? registered?.deviceId;
  const token = flags.token ?? registered?.token;
  if (!deviceId || !token) throw new Error("listen needs --device with --token, or --edge and --key to register one");
  const { nodes } = (await call(flags, "GET", "/v1/nodes")) as { nodes: { ws: string; tcp: string }[] };
  const tcp = flags.transport === "tcp";
  const addresses = nodes.map((n) => (tcp ? n.tcp : n.ws));
  if (addresses.length === 0) throw new Error("the edge lists no relay nodes");
  const client = new PushClient({
    deviceId,
    token,
    addresses,
    transport: tcp ? tcpTransport(Bun.connect as unknown as TcpConnect) : webSocketTransport(),
    heartbeat: flags.heartbeat ? Number(flags.heartbeat) : undefined,
    state: new FileStateStore(flags.state ?? `.pushmesh/listen-${deviceId}.json`),
    onMessage: (m) => {
      print({ seq: m.seq, messageId: m.messageId, data: m.data });
    },
    onEvent: (event) => stderrLog(event.type, { ...event, deviceId }),
  });
  await client.start();
  const stop = () => void client.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
};

const node: Command = async ([sub, id], flags) => {
  const store = await openStore(configFrom(flags, process.env));
  try {
    if (sub === "list") {
      for (const n of await store.listNodes()) print(n);
      return;
    }
    if ((sub !== "drain" && sub !== "undrain") || !id) throw new Error("usage: node list | node drain ID | node undrain ID");
    if (!(await store.setNodeDraining(id, sub === "drain"))) throw new Error(`no relay node '${id}' in the registry`);
    print({ node: id, draining: sub === "drain" });
  } finally {
    store.close();
  }
};

const relay: Command = async (_args, flags) => runRelayProcess(configFrom(flags, process.env), stderrLog);
const edge: Command = async (_args, flags) => runEdgeProcess(configFrom(flags, process.env), stderrLog);

const cluster: Command = async (_args, flags) => {
  const regions = (flags.regions ?? "a,b").split(",").filter(Boolean);
  const relaysPerRegion = Number(flags["relays-per-region"] ?? "1");
  if (!Number.isInteger(relaysPerRegion) || relaysPerRegion < 1) throw new Error("--relays-per-region takes a positive integer");
  const topology = await startCluster({ regions, relaysPerRegion, dir: flags.dir, log: stderrLog });
  const shutdown = () => void topology.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  print(topology.describe());
};

export const commands: Record<string, Command> = { dev, migrate, app, node, device, send, listen, relay, edge, cluster };
