// Topic fan-out at 10,000 subscribers: one topic, every device a WebSocket subscriber, against a
// bare Bun server publishing the same frames to the same sockets (server.publish), in the same
// run. The throughput benchmark measures fan-out at 1,000 subscribers beside unicast; this is the
// issue's figure at ten times that. Rounds, flow control and processes are the throughput
// benchmark's (bench/rounds.ts, bench/fleet.ts); the stored messages are written before the clock.
import { join } from "node:path";
import { runContext, spawnChild } from "./child-process.ts";
import { BENCH_MESH_CONFIG } from "./connections.ts";
import { Fleet, registerDevices } from "./fleet.ts";
import { type Headline, perSecond, ratio } from "./headline.ts";
import { TOPIC } from "./rounds.ts";
import { type ThroughputRow, timedRow } from "./throughput.ts";
import { tempDir } from "../test-support/harness.ts";

const RAW = join(import.meta.dir, "raw-server.ts");
const MESH = join(import.meta.dir, "mesh-server.ts");
/** Device processes: 5,000 sockets each, well under the 20,000 open files a process may hold. */
const SWARMS = 2;

export type FanoutResult = { subscribers: number; rounds: number; raw: ThroughputRow; mesh: ThroughputRow; context: string };

export async function runFanout(quick: boolean): Promise<FanoutResult> {
  const n = quick ? 500 : 10_000;
  const rounds = quick ? 20 : 200;
  const window = n * 16;
  const context = runContext();
  const wsOnly = (ids: { deviceId: string; token: string }[]) => ids.map((c) => ({ ...c, transport: "ws" as const, topic: true }));

  let raw: ThroughputRow;
  {
    const server = await spawnChild("raw Bun server", RAW);
    const fleet = await Fleet.start(SWARMS);
    try {
      const conn = await fleet.connect("raw", server.ready.ws as string, server.ready.tcp as string, wsOnly(Array.from({ length: n }, (_, i) => ({ deviceId: `raw-${i}`, token: "" }))));
      if (conn.connected !== n) throw new Error(`raw: ${conn.connected} of ${n} connected: ${conn.errors.join("; ")}`);
      raw = await timedRow("topic fan-out", server, fleet, (i) => fleet.assigned[i]!.length * rounds, () => server.request("fanout", { rounds, window }));
    } finally {
      await fleet.stop();
      await server.kill();
    }
  }

  using dir = tempDir();
  const server = await spawnChild("pushmesh relay", MESH, [JSON.stringify({ ...BENCH_MESH_CONFIG, db: `file:${join(dir.path, "mesh.db")}` })]);
  const fleet = await Fleet.start(SWARMS);
  try {
    const edge = server.ready.edge as string;
    const apiKey = server.ready.apiKey as string;
    process.stderr.write(`  registering ${n} devices and subscribing them to '${TOPIC}'…\n`);
    const creds = await registerDevices(edge, apiKey, Array.from({ length: n }, (_, i) => `fan-${i}`));
    for (let i = 0; i < n; i += 1000) {
      const res = await fetch(`${edge}/v1/topics/${TOPIC}/subscribers`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ deviceIds: creds.slice(i, i + 1000).map((c) => c.deviceId) }),
      });
      if (res.status !== 200) throw new Error(`subscribe answered ${res.status}: ${await res.text()}`);
    }
    const conn = await fleet.connect("pushmesh", server.ready.ws as string, server.ready.tcp as string, wsOnly(creds));
    if (conn.connected !== n) throw new Error(`pushmesh: ${conn.connected} of ${n} connected: ${conn.errors.join("; ")}`);
    await server.request("topicPrewrite", { topic: TOPIC, rounds });
    const mesh = await timedRow("topic fan-out", server, fleet, (i) => fleet.assigned[i]!.length * rounds, () => server.request("fanout", { subscribers: n, window }));
    return { subscribers: n, rounds, raw, mesh, context };
  } finally {
    await fleet.stop();
    await server.kill();
  }
}

const rate = (r: ThroughputRow) => r.frames / r.seconds;

export function fanoutMarkdown(r: FanoutResult): string {
  const line = (x: ThroughputRow, label: string, base?: ThroughputRow) =>
    `| ${label} | ${x.frames} | ${x.seconds.toFixed(2)} s | **${rate(x).toFixed(0)}** | ${base ? `${(rate(x) / rate(base)).toFixed(2)}×` : "–"} | ${((x.serverCpu / x.frames) * 1e6).toFixed(2)} µs | ${((x.clientCpu / x.seconds) * 100).toFixed(0)} % | ${(x.machineBusy * 100).toFixed(0)} % | ${x.outOfOrder} / ${x.closedByServer} |`;
  const x = rate(r.mesh) / rate(r.raw);
  return [
    `${r.subscribers} devices, all WebSocket, all subscribed to one topic, held by ${SWARMS} device processes; ${r.rounds} topic messages, each one frame per subscriber, at most 16 frames per subscriber in flight (the throughput benchmark's flow control). pushmesh is the whole mesh as \`dev\` runs it (memory engine, libSQL file, dbSync normal) in its own process; its messages are stored in the topic's stream before the clock and go out through engine broadcasts, as a topic send does. ${r.context}`,
    "",
    "| run | frames delivered | time | frames/s | vs baseline | server CPU per frame | device processes' CPU (of one core) | machine busy | out of order / closed by server |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    line(r.raw, "raw Bun server.publish of pre-encoded frames (baseline)"),
    line(r.mesh, "pushmesh relay, engine broadcast", r.raw),
    "",
    `Fan-out at ${r.subscribers} subscribers / raw publish: **${ratio(x)}** (target ≥ 1.0×: ${x >= 1 ? "met" : "missed"}).`,
  ].join("\n");
}

export function fanoutHeadlines(r: FanoutResult): Headline[] {
  const x = rate(r.mesh) / rate(r.raw);
  return [{ figure: `topic fan-out to ${r.subscribers} subscribers`, measured: perSecond(rate(r.mesh)), baseline: `raw Bun publish ${perSecond(rate(r.raw))} (${ratio(x)})`, target: "≥ 1.0× at 10k subscribers", met: x >= 1 }];
}
