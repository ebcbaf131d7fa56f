// Idle connections: what N authenticated devices cost a pushmesh relay in memory, against a bare
// Bun server holding the same N sockets, in the same run. Each server runs in its own process
// (pushmesh: the whole mesh as `dev` runs it, bench/mesh-server.ts; baseline: bench/raw-server.ts);
// the devices are spread over several processes, half on WebSocket and half on raw TCP. The
// figure is the server's RSS growth from before the first connection to after the last, both
// read after a full garbage collection, divided by the connections.
import { join } from "node:path";
import { type Child, type Memory, runContext, spawnChild } from "./child-process.ts";
import { type ConnectResult, Fleet, mixedDevices, registerDevices } from "./fleet.ts";
import { tempDir } from "../test-support/harness.ts";
import { barChart } from "./plot.ts";
import { type Headline, ratio } from "./headline.ts";

const RAW = join(import.meta.dir, "raw-server.ts");
const MESH = join(import.meta.dir, "mesh-server.ts");
/** Sockets per device process: under half its 20,000 open files, as the machine allows. */
const PER_SWARM = 6000;

export type ConnectionsRow = {
  server: string;
  devices: number;
  connected: number;
  failed: number;
  connectSeconds: number;
  before: Memory;
  after: Memory;
  /** Object types that grew most, per connection. */
  objects: [string, number][];
};
export type ConnectionsResult = { devices: number; swarms: number; registerSeconds: number; rows: ConnectionsRow[]; context: string };

/** Settings the benchmark needs: every device comes from 127.0.0.1, so the per-address limits are lifted. */
export const BENCH_MESH_CONFIG = {
  dbSync: "normal",
  connectRatePerIp: 1_000_000_000,
  connectBurstPerIp: 1_000_000_000,
  rateLimitRequests: 1_000_000_000,
} as const;

async function measureHeld(name: string, server: Child, mode: "raw" | "pushmesh", devices: ReturnType<typeof mixedDevices>, swarms: number): Promise<ConnectionsRow> {
  const before = await server.request<Memory>("measure");
  const fleet = await Fleet.start(swarms);
  let conn: ConnectResult;
  let after: Memory;
  try {
    process.stderr.write(`  ${name}: connecting ${devices.length} devices from ${swarms} processes…\n`);
    conn = await fleet.connect(mode, server.ready.ws as string, server.ready.tcp as string, devices);
    if (conn.failed > 0) process.stderr.write(`  ${name}: ${conn.failed} failed, e.g. ${conn.errors.join("; ")}\n`);
    await Bun.sleep(1000);
    after = await server.request<Memory>("measure");
    process.stderr.write(`  ${name}: ${conn.connected} connected in ${conn.seconds.toFixed(1)} s; RSS ${mib(before.rss)} → ${mib(after.rss)} MiB\n`);
  } finally {
    await fleet.stop();
  }
  const grown = Object.entries(after.objects)
    .map(([type, n]): [string, number] => [type, (n - (before.objects[type] ?? 0)) / Math.max(1, conn.connected)])
    .filter(([, per]) => per >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  return { server: name, devices: devices.length, connected: conn.connected, failed: conn.failed, connectSeconds: conn.seconds, before, after, objects: grown };
}

export async function runConnections(quick: boolean): Promise<ConnectionsResult> {
  const n = quick ? 500 : 18_000;
  const swarms = quick ? 2 : Math.ceil(n / PER_SWARM);
  using dir = tempDir();
  const rows: ConnectionsRow[] = [];
  const context = runContext();

  const mesh = await spawnChild("mesh-server", MESH, [JSON.stringify({ ...BENCH_MESH_CONFIG, db: `file:${join(dir.path, "mesh.db")}` })]);
  let registerSeconds = 0;
  try {
    const started = performance.now();
    process.stderr.write(`  registering ${n} devices over POST /v1/devices…\n`);
    const creds = await registerDevices(mesh.ready.edge as string, mesh.ready.apiKey as string, Array.from({ length: n }, (_, i) => `conn-${i}`));
    registerSeconds = (performance.now() - started) / 1000;
    rows.push(await measureHeld("pushmesh relay (HELLO → WELCOME)", mesh, "pushmesh", mixedDevices(creds), swarms));
  } finally {
    await mesh.kill();
  }

  const raw = await spawnChild("raw-server", RAW);
  try {
    const bare = Array.from({ length: n }, (_, i) => ({ deviceId: `raw-${i}`, token: "" }));
    rows.push(await measureHeld("raw Bun server (baseline)", raw, "raw", mixedDevices(bare), swarms));
  } finally {
    await raw.kill();
  }
  return { devices: n, swarms, registerSeconds, rows, context };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const perConn = (r: ConnectionsRow) => (r.after.rss - r.before.rss) / Math.max(1, r.connected);
const heapPerConn = (r: ConnectionsRow) => (r.after.heap - r.before.heap) / Math.max(1, r.connected);

export function connectionsMarkdown(r: ConnectionsResult): string {
  const [mesh, raw] = r.rows as [ConnectionsRow, ConnectionsRow];
  const ratio = perConn(mesh) / perConn(raw);
  const row = (x: ConnectionsRow) =>
    `| ${x.server} | ${x.connected} of ${x.devices} | ${x.connectSeconds.toFixed(1)} s | ${mib(x.before.rss)} → ${mib(x.after.rss)} MiB | ${(perConn(x) / 1024).toFixed(2)} KiB | ${(heapPerConn(x) / 1024).toFixed(2)} KiB |`;
  const objects = (x: ConnectionsRow) => x.objects.map(([t, n]) => `${t} ${n.toFixed(1)}`).join(", ") || "none";
  return [
    `Each server runs in its own process; ${r.devices} devices (half WebSocket, half raw TCP) connect from ${r.swarms} other processes over loopback. Pushmesh devices are registered over \`POST /v1/devices\` first (${r.registerSeconds.toFixed(1)} s) and count as connected at WELCOME; the relay is the whole mesh as \`pushmesh dev\` runs it (edge, store and memory engine in the same process, dbSync normal, per-address connect limits lifted because every device comes from 127.0.0.1). RSS is read after a full GC, before the first connection and after the last. ${r.context}`,
    "",
    "| server | connected | connect time | server RSS before → after | RSS per connection | JS heap per connection |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    row(mesh),
    row(raw),
    "",
    `Pushmesh / raw RSS per connection: **${ratio.toFixed(2)}×** (target ≤ 1.25×: ${ratio <= 1.25 ? "met" : "missed"}).`,
    "",
    `Live JS objects added per connection — pushmesh: ${objects(mesh)}; raw: ${objects(raw)}.`,
  ].join("\n");
}

export function connectionsChart(r: ConnectionsResult): string {
  return barChart(
    r.rows.map((x) => ({ group: `${x.connected} idle devices`, series: x.server, value: perConn(x) / 1024 })),
    "server RSS per connection, KiB →",
    (n) => n.toFixed(2),
  );
}

export function connectionsHeadlines(r: ConnectionsResult): Headline[] {
  const [mesh, raw] = r.rows as [ConnectionsRow, ConnectionsRow];
  const x = perConn(mesh) / perConn(raw);
  return [
    {
      figure: `RSS per idle connection, ${mesh.connected} devices`,
      measured: `${(perConn(mesh) / 1024).toFixed(2)} KiB`,
      baseline: `raw Bun ${(perConn(raw) / 1024).toFixed(2)} KiB (${ratio(x)})`,
      target: "≤ 1.25× raw",
      met: x <= 1.25,
    },
  ];
}
