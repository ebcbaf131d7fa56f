// Push throughput: how fast a pushmesh relay gets messages to connected devices, against a bare Bun
// server writing the same bytes, in the same run on the same machine.
//
// Process layout: this process only coordinates (it forwards the devices' progress to the server
// for flow control and, for the end-to-end figure, makes the HTTP sends). The server under test
// runs alone in one process (pushmesh: bench/mesh-server.ts, the whole mesh as `dev` runs it;
// baseline: bench/raw-server.ts). The devices run in two other processes (bench/device-swarm.ts),
// half on WebSocket and half on raw TCP; they ACK their highest seq every 20 ms against both.
//
// - unicast, relay path: messages are written to the store before the clock, then the server
//   sends one deliver signal per device per round through its engine, as the edge does after its
//   durable write. Baseline: ws.sendBinary / socket.write of a PUSH frame encoded in advance.
// - unicast, end to end: POST /v1/messages to up to 1000 devices each, store write included; no
//   baseline (a bare server has no store), so it is reported beside the relay path.
// - topic fan-out: one topic, the WebSocket half of the devices subscribed; the topic's messages
//   are stored before the clock and broadcast through the engine. Baseline: server.publish.
import { join } from "node:path";
import { busyShare, type Child, machineTicks, runContext, spawnChild } from "./child-process.ts";
import { BENCH_MESH_CONFIG } from "./connections.ts";
import { cpuDelta, type Creds, Fleet, mixedDevices, registerDevices } from "./fleet.ts";
import { PAYLOAD, TOPIC } from "./rounds.ts";
import { tempDir } from "../test-support/harness.ts";
import { barChart } from "./plot.ts";
import { type Headline, perSecond, ratio } from "./headline.ts";

const RAW = join(import.meta.dir, "raw-server.ts");
const MESH = join(import.meta.dir, "mesh-server.ts");
const SWARMS = 2;

export type ThroughputRow = {
  test: string;
  server: string;
  frames: number;
  seconds: number;
  serverCpu: number;
  clientCpu: number;
  /** For the end-to-end run: how long until the edge had accepted every send. */
  acceptedSeconds?: number;
  outOfOrder: number;
  closedByServer: number;
  /** Share of the whole machine's CPU (both cores, every process, the benchmark's and any other) busy during the run. */
  machineBusy: number;
};
export type ThroughputResult = { devices: number; subscribers: number; rows: ThroughputRow[]; context: string };

type Cpu = { user: number; system: number };

export async function timedRow(test: string, server: Child, fleet: Fleet, expected: (swarm: number) => number, start: () => Promise<unknown>): Promise<ThroughputRow> {
  const cpu0 = await server.request<Cpu>("cpu");
  const clients0 = await fleet.stats();
  const ticks0 = machineTicks();
  let acceptedSeconds: number | undefined;
  const t0 = performance.now();
  const run = await fleet.timed(server, expected, async () => {
    await start();
    acceptedSeconds = (performance.now() - t0) / 1000;
  });
  const machineBusy = busyShare(ticks0, machineTicks());
  const cpu1 = await server.request<Cpu>("cpu");
  const clients1 = await fleet.stats();
  const row: ThroughputRow = {
    test,
    server: server.name,
    frames: run.frames,
    seconds: run.seconds,
    serverCpu: cpuDelta(cpu0, cpu1),
    clientCpu: clients1.cpuSeconds - clients0.cpuSeconds,
    acceptedSeconds: test.includes("HTTP") ? acceptedSeconds : undefined,
    outOfOrder: clients1.outOfOrder - clients0.outOfOrder,
    closedByServer: clients1.closedByServer - clients0.closedByServer,
    machineBusy,
  };
  process.stderr.write(`  ${server.name} ${test}: ${row.frames} frames in ${row.seconds.toFixed(2)} s = ${(row.frames / row.seconds).toFixed(0)}/s, server CPU ${row.serverCpu.toFixed(2)} s\n`);
  return row;
}

/** POST /v1/messages to every device, `rounds` times, `concurrency` requests in flight. */
async function sendOverHttp(edge: string, apiKey: string, deviceIds: string[], rounds: number, concurrency = 4): Promise<void> {
  const groups: string[][] = [];
  for (let i = 0; i < deviceIds.length; i += 1000) groups.push(deviceIds.slice(i, i + 1000));
  // Rounds in order, groups of a round in parallel: each device still gets its messages in order.
  let next = 0;
  const jobs = Array.from({ length: rounds * groups.length }, (_, i) => groups[i % groups.length]!);
  const worker = async () => {
    while (next < jobs.length) {
      const group = jobs[next++]!;
      const res = await fetch(`${edge}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ to: { deviceIds: group }, data: PAYLOAD }),
      });
      if (res.status !== 202) throw new Error(`send answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export type ThroughputSizes = { devices: number; unicastRounds: number; httpRounds: number; fanoutRounds: number };

export async function runThroughput(quick: boolean, sizes: Partial<ThroughputSizes> = {}): Promise<ThroughputResult> {
  const n = sizes.devices ?? (quick ? 200 : 2000);
  const unicastRounds = sizes.unicastRounds ?? (quick ? 50 : 200);
  const httpRounds = sizes.httpRounds ?? (quick ? 5 : 50);
  const fanoutRounds = sizes.fanoutRounds ?? (quick ? 100 : 1000);
  const rows: ThroughputRow[] = [];
  const context = runContext();
  const wsCount = (fleet: Fleet, i: number) => fleet.assigned[i]!.filter((d) => d.transport === "ws").length;
  const subscribers = Math.ceil(n / 2);

  // Baseline first, in its own processes; the pushmesh run starts from fresh ones.
  {
    const raw = await spawnChild("raw Bun server", RAW);
    const fleet = await Fleet.start(SWARMS);
    try {
      const devices = mixedDevices(Array.from({ length: n }, (_, i) => ({ deviceId: `raw-${i}`, token: "" }))).map((d) => ({ ...d, topic: d.transport === "ws" }));
      const conn = await fleet.connect("raw", raw.ready.ws as string, raw.ready.tcp as string, devices);
      if (conn.connected !== n) throw new Error(`raw: ${conn.connected} of ${n} connected: ${conn.errors.join("; ")}`);
      rows.push(await timedRow("unicast", raw, fleet, (i) => fleet.assigned[i]!.length * unicastRounds, () => raw.request("unicast", { rounds: unicastRounds, window: n * 16 })));
      rows.push(await timedRow("topic fan-out", raw, fleet, (i) => wsCount(fleet, i) * fanoutRounds, () => raw.request("fanout", { rounds: fanoutRounds, window: subscribers * 16 })));
    } finally {
      await fleet.stop();
      await raw.kill();
    }
  }

  using dir = tempDir();
  const mesh = await spawnChild("pushmesh relay", MESH, [JSON.stringify({ ...BENCH_MESH_CONFIG, db: `file:${join(dir.path, "mesh.db")}` })]);
  const fleet = await Fleet.start(SWARMS);
  try {
    const edge = mesh.ready.edge as string;
    const apiKey = mesh.ready.apiKey as string;
    process.stderr.write(`  registering ${n} devices and subscribing ${subscribers} to '${TOPIC}'…\n`);
    const creds: Creds[] = await registerDevices(edge, apiKey, Array.from({ length: n }, (_, i) => `tp-${i}`));
    const devices = mixedDevices(creds);
    const wsIds = devices.filter((d) => d.transport === "ws").map((d) => d.deviceId);
    for (let i = 0; i < wsIds.length; i += 1000) {
      const res = await fetch(`${edge}/v1/topics/${TOPIC}/subscribers`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ deviceIds: wsIds.slice(i, i + 1000) }),
      });
      if (res.status !== 200) throw new Error(`subscribe answered ${res.status}: ${await res.text()}`);
    }
    const conn = await fleet.connect("pushmesh", mesh.ready.ws as string, mesh.ready.tcp as string, devices);
    if (conn.connected !== n) throw new Error(`pushmesh: ${conn.connected} of ${n} connected: ${conn.errors.join("; ")}`);
    const ids = creds.map((c) => c.deviceId);

    // BENCH_THROUGHPUT_ACKS_ONLY=1: the pushmesh side runs only the acking unicast row, so that a
    // profile of the mesh process (BENCH_CPU_PROF) holds that run and its store writes alone.
    const acksOnly = process.env.BENCH_THROUGHPUT_ACKS_ONLY === "1";
    if (!acksOnly) rows.push(await timedRow("unicast, end to end over HTTP", mesh, fleet, (i) => fleet.assigned[i]!.length * httpRounds, () => sendOverHttp(edge, apiKey, ids, httpRounds)));

    process.stderr.write(`  writing ${unicastRounds} messages × ${n} devices to the store (not timed)…\n`);
    await mesh.request("prewrite", { deviceIds: ids, rounds: unicastRounds });
    rows.push(await timedRow("unicast", mesh, fleet, (i) => fleet.assigned[i]!.length * unicastRounds, () => mesh.request("unicast", { window: n * 16 })));
    if (acksOnly) return { devices: n, subscribers, rows, context };

    // Diagnostic: the same run with devices that do not ACK, to show what the relay's delivery marks cost it.
    process.stderr.write(`  again, devices not acking: writing ${unicastRounds} messages × ${n} devices (not timed)…\n`);
    await mesh.request("prewrite", { deviceIds: ids, rounds: unicastRounds });
    await Promise.all(fleet.swarms.map((s) => s.request("acks", { on: false })));
    rows.push(await timedRow("unicast, devices not acking", mesh, fleet, (i) => fleet.assigned[i]!.length * unicastRounds, () => mesh.request("unicast", { window: n * 16 })));
    await Promise.all(fleet.swarms.map((s) => s.request("acks", { on: true })));

    process.stderr.write(`  writing ${fanoutRounds} topic messages to the store (not timed)…\n`);
    await mesh.request("topicPrewrite", { topic: TOPIC, rounds: fanoutRounds });
    rows.push(await timedRow("topic fan-out", mesh, fleet, (i) => wsCount(fleet, i) * fanoutRounds, () => mesh.request("fanout", { subscribers, window: subscribers * 16 })));
  } finally {
    await fleet.stop();
    await mesh.kill();
  }
  return { devices: n, subscribers, rows, context };
}

const rate = (r: ThroughputRow) => r.frames / r.seconds;

export function throughputMarkdown(r: ThroughputResult): string {
  const find = (test: string, server: string) => r.rows.find((x) => x.test === test && x.server === server);
  const line = (x: ThroughputRow, label: string, base?: ThroughputRow) =>
    `| ${label} | ${x.frames} | ${x.seconds.toFixed(2)} s | **${rate(x).toFixed(0)}** | ${base ? `${(rate(x) / rate(base)).toFixed(2)}×` : "–"} | ${((x.serverCpu / x.seconds) * 100).toFixed(0)} % | ${((x.serverCpu / x.frames) * 1e6).toFixed(2)} µs | ${((x.clientCpu / x.seconds) * 100).toFixed(0)} % | ${(x.machineBusy * 100).toFixed(0)} % | ${x.outOfOrder} / ${x.closedByServer} |`;
  const rawUni = find("unicast", "raw Bun server");
  const rawFan = find("topic fan-out", "raw Bun server");
  const meshUni = find("unicast", "pushmesh relay");
  const meshFan = find("topic fan-out", "pushmesh relay");
  const http = find("unicast, end to end over HTTP", "pushmesh relay");
  const noAcks = find("unicast, devices not acking", "pushmesh relay");
  const rows: string[] = [];
  if (rawUni) rows.push(line(rawUni, "unicast — raw Bun server, ws.sendBinary / socket.write of pre-encoded frames (baseline)"));
  if (meshUni) rows.push(line(meshUni, "unicast — pushmesh relay, engine deliver signals (store write before the clock)", rawUni));
  if (noAcks) rows.push(line(noAcks, "unicast — pushmesh relay as above, devices not acking (diagnostic: no delivery marks written)", rawUni));
  if (http) rows.push(line(http, `unicast — pushmesh end to end, POST /v1/messages (store write included; sends accepted in ${http.acceptedSeconds?.toFixed(2)} s)`, rawUni));
  if (rawFan) rows.push(line(rawFan, "topic fan-out — raw Bun server.publish (baseline)"));
  if (meshFan) rows.push(line(meshFan, "topic fan-out — pushmesh relay, engine broadcast (store write before the clock)", rawFan));
  const uniRatio = meshUni && rawUni ? rate(meshUni) / rate(rawUni) : Number.NaN;
  return [
    `${r.devices} devices, half WebSocket and half raw TCP, held by ${SWARMS} device processes that ACK their highest seq every 20 ms; topic fan-out goes to the ${r.subscribers} WebSocket devices. The server under test runs alone in its own process (pushmesh: the whole mesh as \`dev\` runs it, libSQL file with dbSync normal, memory engine); a coordinating process forwards the devices' progress so that at most 16 frames per receiving device are in flight, for both servers alike. 2 cores are shared by all processes, so the rate is also bounded by the device processes: the CPU columns show where the time went. Frames are the 98-byte PUSH of the wire benchmark. The relay-path rows exclude the store write of each message (done before the clock, as the edge does before it signals); the end-to-end row includes it (the edge's own accepted sends/s are measured in the latency benchmark). ${r.context}`,
    "",
    "| run | frames delivered | time | frames/s | vs baseline | server CPU (of one core) | server CPU per frame | device processes' CPU (of one core) | machine busy (both cores, all processes) | out of order / closed by server |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Unicast, relay path / raw per-socket send: **${uniRatio.toFixed(2)}×** (target ≥ 1.0×: ${uniRatio >= 1 ? "met" : "missed"}).`,
  ].join("\n");
}

export function throughputChart(r: ThroughputResult): string {
  const label = (x: ThroughputRow) => (x.server === "raw Bun server" ? "raw Bun server (baseline)" : x.test.startsWith("unicast, ") ? `pushmesh, ${x.test.slice("unicast, ".length)}` : "pushmesh relay");
  return barChart(
    r.rows.map((x) => ({ group: x.test.startsWith("unicast") ? "unicast" : x.test, series: label(x), value: Math.round(rate(x)) })),
    "frames delivered per second →",
  );
}

export function throughputHeadlines(r: ThroughputResult): Headline[] {
  const find = (test: string, server: string) => r.rows.find((x) => x.test === test && x.server === server);
  const out: Headline[] = [];
  const pair = (figure: string, mesh: ThroughputRow | undefined, raw: ThroughputRow | undefined, target: string, goal: number | null) => {
    if (!mesh || !raw) return;
    const x = rate(mesh) / rate(raw);
    out.push({ figure, measured: perSecond(rate(mesh)), baseline: `raw Bun ${perSecond(rate(raw))} (${ratio(x)})`, target, met: goal === null ? null : x >= goal });
  };
  const rawUni = find("unicast", "raw Bun server");
  pair(`unicast pushes to ${r.devices} devices, acks on`, find("unicast", "pushmesh relay"), rawUni, "≥ 1.0× raw per-socket send", 1);
  pair("unicast, devices not acking (diagnostic)", find("unicast, devices not acking", "pushmesh relay"), rawUni, "–", null);
  pair(`topic fan-out to ${r.subscribers} devices`, find("topic fan-out", "pushmesh relay"), find("topic fan-out", "raw Bun server"), "vs raw Bun publish", null);
  return out;
}
