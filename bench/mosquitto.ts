// A broker as a peer: Mosquitto (Debian's package) with persistent sessions (clean: false, a
// fixed client id, QoS 1 subscriptions, on-disk persistence) driven by mqtt.js, for the figures
// the pushmesh sections measure against raw Bun: memory per idle connection, unicast push rate
// (one topic per device, QoS 1 end to end, PUBACKs on both legs) and latency at 1,000/s, with the
// bare Bun server measured again in the same run for the first two. Our own
// mosquitto runs on a free loopback port (a system one may hold 1883). The clients live in this
// process, so send and receive times come from one clock.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { freePort } from "../ops/free-port.ts";
import { tempDir } from "../test-support/harness.ts";
import { rssOf, runContext, spawnChild } from "./child-process.ts";
import { Fleet, mixedDevices } from "./fleet.ts";
import type { Headline } from "./headline.ts";

const MOSQUITTO = process.env.PUSHMESH_MOSQUITTO ?? "/usr/sbin/mosquitto";
const RAW = join(import.meta.dir, "raw-server.ts");

export type MosquittoResult = {
  idle: { connections: number; seconds: number; rssBefore: number; rssAfter: number };
  unicast: { devices: number; messages: number; seconds: number };
  latency: { rate: number; sent: number; received: number; p50: number; p99: number; max: number };
  /** The bare Bun server of the other sections, in this run: the same idle count and unicast load, from device-swarm processes. */
  raw: { idleRssBefore: number; idleRssAfter: number; idleConnected: number; unicastMessages: number; unicastSeconds: number };
  version: string;
  context: string;
};

/** CI machines start without it: Debian's package is installed on first use, as .ci/run does for redis-server. */
function ensureMosquitto(): void {
  if (existsSync(MOSQUITTO)) return;
  process.stderr.write("  mosquitto is missing: installing Debian's package…\n");
  Bun.spawnSync(["sh", "-c", "apt-get update -qq && apt-get install -y -qq mosquitto"], { stdout: "ignore", stderr: "inherit" });
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing and could not be installed: apt-get install mosquitto (or set PUSHMESH_MOSQUITTO)`);
}

async function startMosquitto(dir: string): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  ensureMosquitto();
  const port = await freePort();
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence true", `persistence_location ${dir}/`, "max_connections -1", "max_queued_messages 100000", "max_inflight_messages 100", ""].join("\n"),
  );
  const proc = Bun.spawn([MOSQUITTO, "-c", conf], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const until = Date.now() + 10_000;
  for (;;) {
    const up = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
      (s) => (s.end(), true),
      () => false,
    );
    if (up) break;
    if (proc.exitCode !== null || Date.now() > until) throw new Error(`mosquitto did not start: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(25);
  }
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** A device: a persistent session subscribed at QoS 1 to its own topic. */
function device(port: number, id: string, onMessage: (topic: string, payload: Buffer) => void): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({ host: "127.0.0.1", port, clientId: id, clean: false, keepalive: 0, reconnectPeriod: 0, connectTimeout: 60_000 });
    client.once("error", reject);
    client.on("message", onMessage);
    client.once("connect", () => {
      client.subscribe(`d/${id}`, { qos: 1 }, (error) => (error ? reject(error) : resolve(client)));
    });
  });
}

async function connectMany(port: number, ids: string[], onMessage: (topic: string, payload: Buffer) => void, concurrency = 100): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) out.push(await device(port, ids[next++]!, onMessage));
    }),
  );
  return out;
}

const endAll = (clients: MqttClient[]) => Promise.all(clients.map((c) => c.endAsync(true)));

/** The baseline in this run: N idle sockets on a bare Bun server (RSS from /proc, as for the broker), then unicast pushes to `devices` of them. */
async function rawBaseline(idleCount: number, devices: number, rounds: number): Promise<MosquittoResult["raw"]> {
  const raw = await spawnChild("raw Bun server", RAW);
  const fleet = await Fleet.start(2);
  try {
    const idleRssBefore = rssOf(raw.pid);
    const all = mixedDevices(Array.from({ length: idleCount }, (_, i) => ({ deviceId: `raw-${i}`, token: "" })));
    const conn = await fleet.connect("raw", raw.ready.ws as string, raw.ready.tcp as string, all);
    await Bun.sleep(1000);
    const idleRssAfter = rssOf(raw.pid);
    // Unicast over the first `devices` sockets only: a fresh fleet of that size.
    await fleet.stop();
    const small = await Fleet.start(2);
    try {
      await small.connect("raw", raw.ready.ws as string, raw.ready.tcp as string, all.slice(0, devices));
      const run = await small.timed(raw, (i) => small.assigned[i]!.length * rounds, () => raw.request("unicast", { rounds, window: devices * 16 }));
      process.stderr.write(`  raw Bun: ${conn.connected} idle, RSS +${((idleRssAfter - idleRssBefore) / 2 ** 20).toFixed(1)} MiB; ${run.frames} unicast pushes in ${run.seconds.toFixed(2)} s\n`);
      return { idleRssBefore, idleRssAfter, idleConnected: conn.connected, unicastMessages: run.frames, unicastSeconds: run.seconds };
    } finally {
      await small.stop();
    }
  } finally {
    await fleet.stop().catch(() => undefined);
    await raw.kill();
  }
}

export async function runMosquitto(quick: boolean): Promise<MosquittoResult> {
  using dir = tempDir();
  const context = runContext();
  const raw = await rawBaseline(quick ? 200 : 10_000, quick ? 100 : 2000, quick ? 5 : 20);
  const broker = await startMosquitto(dir.path);
  const help = Bun.spawnSync([MOSQUITTO, "-h"]);
  const version = /mosquitto version \S+/.exec(new TextDecoder().decode(help.stdout) + new TextDecoder().decode(help.stderr))?.[0] ?? "mosquitto";
  try {
    // Idle connections: the broker's RSS growth per persistent session.
    const idleCount = quick ? 200 : 10_000;
    const rssBefore = rssOf(broker.pid);
    let started = performance.now();
    const idle = await connectMany(broker.port, Array.from({ length: idleCount }, (_, i) => `idle-${i}`), () => {});
    const idleSeconds = (performance.now() - started) / 1000;
    await Bun.sleep(1000);
    const rssAfter = rssOf(broker.pid);
    process.stderr.write(`  mosquitto: ${idle.length} idle sessions in ${idleSeconds.toFixed(1)} s; RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB\n`);
    await endAll(idle);

    // Unicast: every device gets `rounds` messages on its own topic, QoS 1.
    const devices = quick ? 100 : 2000;
    const rounds = quick ? 5 : 20;
    let received = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    const ids = Array.from({ length: devices }, (_, i) => `uni-${i}`);
    const subscribers = await connectMany(broker.port, ids, () => {
      if (++received === devices * rounds) allReceived();
    });
    const publisher = await mqtt.connectAsync({ host: "127.0.0.1", port: broker.port, clientId: "publisher", clean: true, reconnectPeriod: 0 });
    const payload = Buffer.from(JSON.stringify({ title: "hello", body: "a push of typical size for the benchmark" }));
    started = performance.now();
    for (let r = 0; r < rounds; r++) for (const id of ids) publisher.publish(`d/${id}`, payload, { qos: 1 });
    await done;
    const unicastSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`  mosquitto: ${devices * rounds} unicast pushes in ${unicastSeconds.toFixed(2)} s\n`);
    await endAll(subscribers);

    // Latency: open loop at 1,000/s over 100 devices; the payload carries the send time.
    const rate = 1000;
    const seconds = quick ? 1 : 10;
    const latencies: number[] = [];
    const latencyIds = Array.from({ length: 100 }, (_, i) => `lat-${i}`);
    const listeners = await connectMany(broker.port, latencyIds, (_topic, body) => latencies.push(performance.now() - Number(body.toString())));
    const total = rate * seconds;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await Bun.sleep(wait);
      publisher.publish(`d/${latencyIds[i % latencyIds.length]}`, String(performance.now()), { qos: 1 });
    }
    const deadline = performance.now() + 5000;
    while (latencies.length < total && performance.now() < deadline) await Bun.sleep(10);
    await endAll(listeners);
    await publisher.endAsync(true);
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
    return {
      idle: { connections: idle.length, seconds: idleSeconds, rssBefore, rssAfter },
      unicast: { devices, messages: devices * rounds, seconds: unicastSeconds },
      latency: { rate, sent: total, received: latencies.length, p50: pct(50), p99: pct(99), max: sorted.at(-1) ?? Number.NaN },
      raw,
      version,
      context,
    };
  } finally {
    await broker.stop();
  }
}

const perIdle = (r: MosquittoResult) => (r.idle.rssAfter - r.idle.rssBefore) / Math.max(1, r.idle.connections);
const pushRate = (r: MosquittoResult) => r.unicast.messages / r.unicast.seconds;
const rawPerIdle = (r: MosquittoResult) => (r.raw.idleRssAfter - r.raw.idleRssBefore) / Math.max(1, r.raw.idleConnected);
const rawRate = (r: MosquittoResult) => r.raw.unicastMessages / r.raw.unicastSeconds;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;

export function mosquittoMarkdown(r: MosquittoResult): string {
  return [
    `${r.version}, our own instance on a free loopback port with on-disk persistence; every device is an mqtt.js client with a persistent session (\`clean: false\`, a fixed client id) subscribed at QoS 1 to its own topic \`d/<id>\`, and every push is published at QoS 1 (PUBACK from the broker, and from the device). Clients run in the benchmark's process. Compare with the pushmesh and raw Bun rows of [idle connections](#idle-connections-memory-per-device-against-a-bare-bun-server), [push throughput](#push-throughput-unicast-and-topic-fan-out-against-a-bare-bun-server) and [latency](#end-to-end-latency-and-edge-throughput) (there: sends accepted over HTTP and written to the store first). ${r.context}`,
    "",
    "| figure | Mosquitto | raw Bun, same run |",
    "| --- | ---: | ---: |",
    `| RSS per idle connection, ${r.idle.connections} persistent sessions / sockets (from /proc, no forced GC) | ${kib(perIdle(r))} (RSS ${(r.idle.rssBefore / 2 ** 20).toFixed(1)} → ${(r.idle.rssAfter / 2 ** 20).toFixed(1)} MiB; connected in ${r.idle.seconds.toFixed(1)} s) | ${kib(rawPerIdle(r))} |`,
    `| unicast pushes, ${r.unicast.devices} devices × ${r.unicast.messages / r.unicast.devices} (Mosquitto: QoS 1) | ${rate(pushRate(r))} | ${rate(rawRate(r))} |`,
    `| publish → device receives at ${r.latency.rate.toLocaleString("en-US")}/s, ${r.latency.received} of ${r.latency.sent} | p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms, max ${r.latency.max.toFixed(1)} ms | – (no send path) |`,
  ].join("\n");
}

export function mosquittoHeadlines(r: MosquittoResult): Headline[] {
  return [
    { figure: "Mosquitto (peer): RSS per idle persistent session", measured: `${kib(perIdle(r))}, ${r.idle.connections} sessions`, baseline: `raw Bun ${kib(rawPerIdle(r))}`, target: "reported", met: null },
    { figure: "Mosquitto (peer): unicast QoS 1 pushes", measured: `${rate(pushRate(r))} to ${r.unicast.devices} devices`, baseline: `raw Bun ${rate(rawRate(r))}`, target: "reported", met: null },
    { figure: "Mosquitto (peer): publish → receive at 1,000/s", measured: `p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms`, baseline: "–", target: "reported", met: null },
  ];
}
