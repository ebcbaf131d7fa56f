// A relay host at scale: N idle devices (100,000 in a full run) held by one `pushmesh relay
// --workers W` over Redis, against W bare Bun servers sharing their ports the same way, in the
// same run. No process may pass 20,000 open files, so the host has at least N / 15,000 workers
// and the devices come from N / 12,500 swarm processes. A loopback destination (address, port)
// has about 28,000 ephemeral source ports, so the servers listen on 0.0.0.0 and devices dial
// 127.0.0.1 and 127.0.0.2, half on WebSocket and half on raw TCP: four destinations.
// The figure is the RSS growth of all the server's processes (host and workers) from before the
// first connection to after the last, read from /proc (no forced GC, for either side).
import { join } from "node:path";
import { startRedisServer } from "../ops/redis-server.ts";
import { type Child, rssOf, runContext, spawnChild } from "./child-process.ts";
import { BENCH_MESH_CONFIG } from "./connections.ts";
import { Fleet, mixedDevices, registerDevices } from "./fleet.ts";
import type { SwarmDevice } from "./device-swarm.ts";
import type { Headline } from "./headline.ts";
import { ratio } from "./headline.ts";
import { tempDir } from "../test-support/harness.ts";
import { type CliProcess, runCli } from "../test-support/process.ts";

const RAW = join(import.meta.dir, "raw-server.ts");
const PER_WORKER = 15_000;
const PER_SWARM = 12_500;
const DESTINATIONS = ["127.0.0.1", "127.0.0.2"];

export type HostRow = { server: string; processes: number; connected: number; connectSeconds: number; rssBefore: number; rssAfter: number };
export type HostResult = { devices: number; workers: number; swarms: number; registerSeconds: number; rows: HostRow[]; context: string };

const env = {
  PUSHMESH_DB_SYNC: BENCH_MESH_CONFIG.dbSync,
  PUSHMESH_CONNECT_RATE_PER_IP: String(BENCH_MESH_CONFIG.connectRatePerIp),
  PUSHMESH_CONNECT_BURST_PER_IP: String(BENCH_MESH_CONFIG.connectBurstPerIp),
  PUSHMESH_RATE_LIMIT_REQUESTS: String(BENCH_MESH_CONFIG.rateLimitRequests),
};

/** Connects the devices, a share to each destination address in turn; the sockets each swarm holds stay open. */
async function connectAll(fleet: Fleet, mode: "raw" | "pushmesh", port: { ws: number; tcp: number }, devices: SwarmDevice[]): Promise<{ connected: number; seconds: number; errors: string[] }> {
  let seconds = 0;
  const errors: string[] = [];
  for (const [i, ip] of DESTINATIONS.entries()) {
    // Devices alternate ws, tcp (mixedDevices): pairs go to each address, so each (address, port) gets a quarter.
    const share = devices.filter((_, j) => Math.floor(j / 2) % DESTINATIONS.length === i);
    const r = await fleet.connect(mode, `ws://${ip}:${port.ws}`, `${ip}:${port.tcp}`, share);
    seconds += r.seconds;
    errors.push(...r.errors);
  }
  return { connected: (await fleet.stats()).connected, seconds, errors: errors.slice(0, 5) };
}

async function measure(name: string, pids: () => number[], mode: "raw" | "pushmesh", port: { ws: number; tcp: number }, devices: SwarmDevice[], swarms: number): Promise<HostRow> {
  const rss = () => pids().reduce((sum, pid) => sum + rssOf(pid), 0);
  const rssBefore = rss();
  const fleet = await Fleet.start(swarms);
  try {
    process.stderr.write(`  ${name}: connecting ${devices.length} devices from ${swarms} processes…\n`);
    const r = await connectAll(fleet, mode, port, devices);
    if (r.connected < devices.length) process.stderr.write(`  ${name}: ${devices.length - r.connected} not connected, e.g. ${r.errors.join("; ")}\n`);
    await Bun.sleep(2000);
    const rssAfter = rss();
    process.stderr.write(`  ${name}: ${r.connected} connected in ${r.seconds.toFixed(1)} s; RSS ${mib(rssBefore)} → ${mib(rssAfter)} MiB\n`);
    return { server: name, processes: pids().length, connected: r.connected, connectSeconds: r.seconds, rssBefore, rssAfter };
  } finally {
    await fleet.stop();
  }
}

async function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ proc: CliProcess; ready: any }> {
  const proc = runCli(args, { ...env, ...extraEnv });
  try {
    return { proc, ready: await proc.nextLine(120_000) };
  } catch (error) {
    await proc.kill();
    throw new Error(`${args[0]} did not start: ${proc.stderr().slice(-800)}`, { cause: error });
  }
}

const taken = new Set<number>();

/** A port in 20000–32767 that nothing listens on now, and not handed out before in this run. */
function lowFreePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (taken.has(port)) continue;
    try {
      const probe = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
      probe.stop(true);
      taken.add(port);
      return port;
    } catch {
      // in use: draw again
    }
  }
}

export async function runHost(quick: boolean): Promise<HostResult> {
  const n = quick ? 600 : 100_000;
  const workers = Math.max(2, Math.ceil(n / PER_WORKER));
  const swarms = quick ? 2 : Math.ceil(n / PER_SWARM);
  using dir = tempDir();
  const db = `file:${join(dir.path, "mesh.db")}`;
  const context = runContext();
  await using redis = await startRedisServer(join(dir.path, "redis"));
  const rows: HostRow[] = [];

  // Every listener binds before the first device connects: afterwards the closed devices' sockets
  // hold most ephemeral ports in TIME_WAIT.
  // Ports below the ephemeral range (32768 and up): a run just before may hold those in TIME_WAIT.
  const rawPort = { ws: lowFreePort(), tcp: lowFreePort() };
  const hostPort = { ws: lowFreePort(), tcp: lowFreePort() };
  const raws: Child[] = [];
  for (let i = 1; i <= workers; i++) raws.push(await spawnChild(`raw-${i}`, RAW, [JSON.stringify({ hostname: "0.0.0.0", wsPort: rawPort.ws, tcpPort: rawPort.tcp, reusePort: true })]));
  let registerSeconds = 0;
  try {
    const created = await cli(["app", "create", "bench", "--db", db]);
    const edge = await cli(["edge", "--db", db, "--engine", "redis", "--redis-url", redis.url, "--edge-port", "0", "--migrate-on-start", "false"]);
    let creds;
    try {
      const started = performance.now();
      process.stderr.write(`  registering ${n} devices over POST /v1/devices…\n`);
      creds = await registerDevices(edge.ready.edge, created.ready.apiKey, Array.from({ length: n }, (_, i) => `host-${i}`), 64);
      registerSeconds = (performance.now() - started) / 1000;
    } finally {
      await edge.proc.kill("SIGTERM");
    }

    const host = await cli(
      ["relay", "--workers", String(workers), "--node-id", "host", "--db", db, "--engine", "redis", "--redis-url", redis.url],
      { PUSHMESH_HOST: "0.0.0.0", PUSHMESH_PUBLIC_HOST: "127.0.0.1", PUSHMESH_WS_PORT: String(hostPort.ws), PUSHMESH_TCP_PORT: String(hostPort.tcp), PUSHMESH_CAPACITY: String(n * 2), PUSHMESH_MIGRATE_ON_START: "false", PUSHMESH_SHUTDOWN_GRACE_MS: "0" },
    );
    try {
      const port = hostPort;
      const pids = [host.ready.pid as number, ...(host.ready.workers as { pid: number }[]).map((w) => w.pid)];
      rows.push(await measure(`pushmesh relay host, ${workers} workers (HELLO → WELCOME)`, () => pids, "pushmesh", port, mixedDevices(creds), swarms));
    } finally {
      await host.proc.kill("SIGTERM");
    }

    const bare = mixedDevices(Array.from({ length: n }, (_, i) => ({ deviceId: `raw-${i}`, token: "" })));
    rows.push(await measure(`raw Bun, ${workers} processes on shared ports (baseline)`, () => raws.map((r) => r.pid), "raw", rawPort, bare, swarms));
  } finally {
    await Promise.all(raws.map((r) => r.kill()));
  }
  return { devices: n, workers, swarms, registerSeconds, rows, context };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const perConn = (r: HostRow) => (r.rssAfter - r.rssBefore) / Math.max(1, r.connected);

export function hostMarkdown(r: HostResult): string {
  const [mesh, raw] = r.rows as [HostRow, HostRow];
  const row = (x: HostRow) =>
    `| ${x.server} | ${x.connected} of ${r.devices} | ${x.connectSeconds.toFixed(1)} s (${Math.round(x.connected / Math.max(0.001, x.connectSeconds))}/s) | ${mib(x.rssBefore)} → ${mib(x.rssAfter)} MiB | ${(perConn(x) / 1024).toFixed(2)} KiB |`;
  return [
    `One \`pushmesh relay --workers ${r.workers}\` (Redis engine, a libSQL file, dbSync normal, per-address connect limits lifted: every device comes from loopback) holds ${r.devices} idle devices, half WebSocket and half raw TCP, from ${r.swarms} swarm processes; the baseline is ${r.workers} bare Bun servers sharing their ports with \`reusePort\` in the same way. No process passes the 20,000 open-file limit. Devices are registered over \`POST /v1/devices\` first (${r.registerSeconds.toFixed(1)} s) and count as connected at WELCOME. RSS is the sum over the server's processes (host and workers) read from /proc without a forced GC, before the first connection and 2 s after the last. ${r.context}`,
    "",
    "| server | connected | time to connect all | RSS of all its processes before → after | RSS per connection |",
    "| --- | ---: | ---: | ---: | ---: |",
    row(mesh),
    row(raw),
    "",
    `Pushmesh / raw RSS per connection: **${(perConn(mesh) / perConn(raw)).toFixed(2)}×**. Held: ${mesh.connected} of ${r.devices} (target ≥ 100,000: ${mesh.connected >= 100_000 ? "met" : "missed"}).`,
  ].join("\n");
}

export function hostHeadlines(r: HostResult): Headline[] {
  const [mesh, raw] = r.rows as [HostRow, HostRow];
  return [
    {
      figure: `idle devices held by one relay host (${r.workers} workers, 2 cores)`,
      measured: `${mesh.connected} in ${mesh.connectSeconds.toFixed(1)} s; ${(perConn(mesh) / 1024).toFixed(2)} KiB RSS each`,
      baseline: `raw Bun ${(perConn(raw) / 1024).toFixed(2)} KiB (${ratio(perConn(mesh) / perConn(raw))}), ${raw.connectSeconds.toFixed(1)} s`,
      target: "≥ 100,000",
      met: mesh.connected >= 100_000,
    },
  ];
}
