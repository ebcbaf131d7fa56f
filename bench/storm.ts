// Reconnect storm: a relay holding N devices dies (SIGKILL, no GOAWAY, nothing flushed) while
// messages are being sent; its devices reconnect to the region's other relay with the SDK's own
// backoff and address list, and resume by seq. Every message sent before the kill and during the
// storm must reach each device's app exactly once.
//
// Process layout: ops/cluster.ts's topology for one region with two relays, each its own
// process, sharing Redis (engine) and sqld (store, each relay and the edge on an embedded
// replica); an edge process takes the sends over HTTP. The devices run the real SDK in several
// other processes (bench/sdk-swarm.ts), half on WebSocket and half on raw TCP, with both relays'
// addresses in their list; this process registers them, sends, kills and watches.
import { join } from "node:path";
import { busyShare, type Child, cpuOfPid, epochMs, machineTicks, runContext, spawnChild } from "./child-process.ts";
import type { Creds } from "./fleet.ts";
import type { SdkDevice, SdkStatus, SdkSummary } from "./sdk-swarm.ts";
import { signDeviceToken } from "../core/auth.ts";
import { type Cluster, startCluster } from "../ops/cluster.ts";
import { openStore } from "../store/open.ts";
import type { Headline } from "./headline.ts";

const SDK_SWARM = join(import.meta.dir, "sdk-swarm.ts");
/** Devices per SDK process: each holds a socket per device, far below its open-file limit. */
const PER_SWARM = 5000;

export type StormResult = {
  context: string;
  devices: number;
  swarms: number;
  roundsBeforeKill: number;
  rounds: number;
  messages: number;
  killedNode: string;
  otherNode: string;
  allReconnectedMs: number;
  p50ReconnectMs: number;
  allResumedMs: number;
  p50ResumedMs: number;
  stillMissing: number;
  lost: number;
  duplicated: number;
  sendSeconds: number;
  roundEveryMs: number;
  /** CPU seconds the surviving relay used from the kill until every device was back, and that span. */
  survivorCpu: number;
  reconnectSpan: number;
  /** Share of the whole machine's CPU that was busy over that span (all processes). */
  machineBusy: number;
  /** What went wrong, if the run could not finish (the edge stopped taking sends, a wait timed out). */
  problems: string[];
  /** Connection attempts that ended before WELCOME, over the whole run (the SDK backs off after each). */
  failedAttempts: number;
  failReasons: Record<string, number>;
  /** Why duplicates happened, when they did. */
  welcomesBehind: number;
  sameSeqTwice: number;
  otherSeqTwice: number;
  onOtherRelay: number;
  reconnected: number;
};

/**
 * Writes the devices straight to the primary, 500 per statement, and signs their tokens with the
 * app's secret, as POST /v1/devices would: 15,000 registrations over the edge take about a
 * minute here, and registration is not what this benchmark measures.
 */
async function registerOnPrimary(cluster: Cluster, ids: string[]): Promise<Creds[]> {
  const store = await openStore({ db: cluster.primary.url, dbSync: "normal", migrateOnStart: false });
  try {
    const secret = await store.appSecret(cluster.appId);
    if (!secret) throw new Error("the cluster's app has no secret");
    const now = Date.now();
    await store.registerDevices(cluster.appId, ids, now);
    const expiresAt = now + 24 * 3600 * 1000;
    return Promise.all(ids.map(async (deviceId) => ({ deviceId, token: await signDeviceToken(secret, { appId: cluster.appId, deviceId, expiresAt }) })));
  } finally {
    store.close();
  }
}

/** Sends message `n` to every device over the edge, 1000 per request; a retry carries the same idempotency key. */
async function sendRound(edge: string, apiKey: string, ids: string[], n: number): Promise<void> {
  const groups: string[][] = [];
  for (let i = 0; i < ids.length; i += 1000) groups.push(ids.slice(i, i + 1000));
  await Promise.all(
    groups.map(async (group, g) => {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${edge}/v1/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ to: { deviceIds: group }, data: { n }, idempotencyKey: `storm-${n}-${g}` }),
          signal: AbortSignal.timeout(15_000),
        }).catch((error: unknown) => ({ status: 0, text: async () => String(error) }) as const);
        if (res.status === 202 || res.status === 200) return;
        const text = await res.text().catch((error: unknown) => String(error));
        if (attempt === 0) process.stderr.write(`    round ${n} group ${g}: ${res.status} ${text.slice(0, 200)}; retrying with the same idempotency key\n`);
        else if (attempt >= 5) throw new Error(`message ${n} to devices ${g * 1000}–${g * 1000 + group.length - 1}: ${res.status} ${text.slice(0, 200)} after ${attempt + 1} attempts`);
        await Bun.sleep(100);
      }
    }),
  );
}

async function statusOf(swarms: Child[], since: number, rounds: number): Promise<SdkStatus> {
  const all = await Promise.all(swarms.map((s) => s.request<SdkStatus>("status", { since, rounds })));
  const byNode: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.byNode)) byNode[k] = (byNode[k] ?? 0) + v;
  const sum = (k: "devices" | "connected" | "reconnected" | "complete") => all.reduce((a, s) => a + s[k], 0);
  return { devices: sum("devices"), connected: sum("connected"), reconnected: sum("reconnected"), complete: sum("complete"), byNode };
}

/** Polls `check` every 100 ms; prints what `describe` says every 5 s so a slow storm shows where it is. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, describe?: () => string): Promise<void> {
  const end = performance.now() + timeoutMs;
  let nextNote = performance.now() + 5000;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}${describe ? ` (${describe()})` : ""}`);
    if (describe && performance.now() > nextNote) {
      process.stderr.write(`    ${describe()}\n`);
      nextNote += 5000;
    }
    await Bun.sleep(100);
  }
}

export async function runStorm(quick: boolean): Promise<StormResult> {
  const n = quick ? 300 : 15_000;
  const context = runContext();
  const swarmCount = quick ? 2 : Math.ceil(n / PER_SWARM);
  // About 2,500 messages/s while the devices move: a quarter of what the edge takes on this
  // machine, so the sends are a load the storm must live with, not the thing that saturates it.
  const roundEveryMs = Math.max(200, (n / 2500) * 1000);
  // Every device comes from 127.0.0.1: the per-address limits that protect a relay from one NAT would refuse the storm itself.
  const lifted = ["--connect-rate-per-ip", "1000000000", "--connect-burst-per-ip", "1000000000", "--rate-limit-requests", "1000000000"];
  process.stderr.write("  starting a one-region cluster: 2 relays, edge, sqld, Redis…\n");
  // BENCH_STORM_DIR keeps the cluster's directory (its processes' logs) for a look afterwards;
  // BENCH_STORM_PROFILE=<dir> has the cluster's processes write CPU profiles there when they stop.
  const profile = process.env.BENCH_STORM_PROFILE;
  if (profile) process.env.BUN_OPTIONS = `--cpu-prof-md --cpu-prof-dir=${profile}`;
  await using cluster = await startCluster({ regions: ["a"], relaysPerRegion: 2, edgeEngine: "redis", extraFlags: lifted, dir: process.env.BENCH_STORM_DIR });
  if (profile) delete process.env.BUN_OPTIONS;
  // The cluster's processes are not our children in a way the OS cleans up: stop them if we are stopped.
  const onSignal = () => void cluster.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  using _signals = {
    [Symbol.dispose]() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
  const region = cluster.regions.a!;
  const [doomed, survivor] = [...region.relays].sort((a, b) => a.nodeId.localeCompare(b.nodeId)) as [(typeof region.relays)[0], (typeof region.relays)[0]];
  const { edge } = region;
  const { apiKey } = cluster;

  process.stderr.write(`  registering ${n} devices…\n`);
  const registering = performance.now();
  const creds = await registerOnPrimary(cluster, Array.from({ length: n }, (_, i) => `storm-${i}`));
  // The relays and the edge read devices from their embedded replicas, which sync every second.
  await Bun.sleep(3000);
  process.stderr.write(`  registered in ${((performance.now() - registering) / 1000).toFixed(1)} s\n`);
  const ids = creds.map((c) => c.deviceId);
  const swarms = await Promise.all(Array.from({ length: swarmCount }, (_, i) => spawnChild(`sdk-swarm-${i + 1}`, SDK_SWARM)));
  try {
    const parts: SdkDevice[][] = swarms.map(() => []);
    creds.forEach((c, i) => parts[i % swarmCount]!.push({ ...c, transport: i % 2 === 0 ? "ws" : "tcp" }));
    process.stderr.write(`  connecting ${n} SDK devices from ${swarmCount} processes to ${doomed.nodeId}…\n`);
    // The doomed relay first in every list: all devices start there; the survivor is where the SDK goes next.
    await Promise.all(swarms.map((s, i) => s.request("start", { devices: parts[i], ws: [doomed.ws, survivor.ws], tcp: [doomed.tcp, survivor.tcp] })));
    let rounds = 0;
    const before = await statusOf(swarms, 0, 0);
    if ((before.byNode[doomed.nodeId] ?? 0) !== n) throw new Error(`expected all ${n} devices on ${doomed.nodeId}, have ${JSON.stringify(before.byNode)}`);

    // Message 1 delivered everywhere; message 2 sent just before the kill, so it is in flight.
    await sendRound(edge, apiKey, ids, ++rounds);
    await until(async () => (await statusOf(swarms, 0, rounds)).complete === n, 60_000, "message 1 everywhere");
    await sendRound(edge, apiKey, ids, ++rounds);
    const roundsBeforeKill = rounds;
    const killedAt = epochMs();
    const survivorCpu0 = cpuOfPid(survivor.pid);
    const ticks0 = machineTicks();
    await cluster.killRelay(doomed.nodeId);
    process.stderr.write(`  killed ${doomed.nodeId} (SIGKILL); sending while the devices move…\n`);

    // Sends go on at a steady pace (a message to every device each `roundEveryMs`) until every device is connected again.
    let storming = true;
    const sendStarted = performance.now();
    const problems: string[] = [];
    const sending = (async () => {
      while (storming) {
        const next = performance.now() + roundEveryMs;
        const n = rounds + 1;
        try {
          await sendRound(edge, apiKey, ids, n);
          rounds = n;
        } catch (error) {
          // A message the edge never took is not owed to anyone; the ones it took still are.
          problems.push(`sends stopped: ${String(error)}`);
          return;
        }
        await Bun.sleep(Math.max(0, next - performance.now()));
      }
    })();
    let last: SdkStatus | null = null;
    const note = () => `${last?.reconnected} reconnected, ${last?.connected} connected, ${last?.complete} complete, by relay ${JSON.stringify(last?.byNode)}, ${rounds} messages sent`;
    await until(async () => (last = await statusOf(swarms, killedAt, rounds)).reconnected === n, 180_000, "every device to reconnect", note).catch((e: unknown) => {
      problems.push(String(e));
    });
    const survivorCpu = cpuOfPid(survivor.pid) - survivorCpu0;
    const machineBusy = busyShare(ticks0, machineTicks());
    const reconnectSpan = (epochMs() - killedAt) / 1000;
    storming = false;
    await sending;
    const sendSeconds = (performance.now() - sendStarted) / 1000;
    process.stderr.write(`  all reconnected; ${rounds} messages per device sent; waiting for every device to have them all…\n`);
    await until(async () => (last = await statusOf(swarms, killedAt, rounds)).complete === n, 120_000, "every device to have every message", note).catch((e: unknown) => {
      problems.push(String(e));
    });
    for (const p of problems) process.stderr.write(`  ${p}\n`);
    // A little longer, so a late duplicate would be counted.
    await Bun.sleep(1000);

    const summaries = await Promise.all(swarms.map((s) => s.request<SdkSummary>("summary", { since: killedAt, rounds })));
    const all = <K extends "reconnectTimes" | "completeTimes">(k: K) => summaries.flatMap((s) => s[k]).sort((a, b) => a - b);
    const reconnect = all("reconnectTimes").map((t) => t - killedAt);
    const complete = all("completeTimes").map((t) => Math.max(0, t - killedAt));
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? Number.NaN;
    const at = (xs: number[], q: number) => ((xs[Math.floor(xs.length * q)] ?? Number.NaN) / 1000).toFixed(2);
    process.stderr.write(`  reconnect after the kill, s: p10 ${at(reconnect, 0.1)}, p50 ${at(reconnect, 0.5)}, p90 ${at(reconnect, 0.9)}, p99 ${at(reconnect, 0.99)}; per process p50: ${summaries.map((s) => at([...s.reconnectTimes].sort((a, b) => a - b).map((t) => t - killedAt), 0.5)).join(", ")}\n`);
    const after = await statusOf(swarms, killedAt, rounds);
    return {
      context,
      devices: n,
      swarms: swarmCount,
      roundsBeforeKill,
      rounds,
      messages: rounds * n,
      killedNode: doomed.nodeId,
      otherNode: survivor.nodeId,
      allReconnectedMs: reconnect.length === n ? (reconnect.at(-1) ?? Number.NaN) : Number.NaN,
      p50ReconnectMs: median(reconnect),
      allResumedMs: complete.length === n ? (complete.at(-1) ?? Number.NaN) : Number.NaN,
      p50ResumedMs: median(complete),
      stillMissing: n - complete.length,
      lost: summaries.reduce((a, s) => a + s.lost, 0),
      duplicated: summaries.reduce((a, s) => a + s.duplicated, 0),
      sendSeconds,
      roundEveryMs,
      survivorCpu,
      reconnectSpan,
      machineBusy,
      problems,
      failedAttempts: summaries.reduce((a, s) => a + s.failedAttempts, 0),
      failReasons: summaries.reduce<Record<string, number>>((acc, s) => {
        for (const [k, v] of Object.entries(s.failReasons)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {}),
      welcomesBehind: summaries.reduce((a, s) => a + s.welcomesBehind, 0),
      sameSeqTwice: summaries.reduce((a, s) => a + s.sameSeqTwice, 0),
      otherSeqTwice: summaries.reduce((a, s) => a + s.otherSeqTwice, 0),
      onOtherRelay: after.byNode[survivor.nodeId] ?? 0,
      reconnected: after.reconnected,
    };
  } finally {
    await Promise.all(swarms.map((s) => s.request("stop", {}, 20_000).catch(() => undefined)));
    await Promise.all(swarms.map((s) => s.kill()));
  }
}

export function stormMarkdown(r: StormResult): string {
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "not reached");
  return [
    `One region of \`ops/cluster.ts\`: two relay processes on one Redis engine and one sqld store (each relay and the edge on an embedded replica), and an edge process. ${r.devices} devices run the SDK (reconnect backoff as shipped: first retry at once, then full jitter from 100 ms doubling to 10 s; the address list holds both relays, and one whose socket did not open is passed over for 10 s) in ${r.swarms} processes, half over WebSocket and half over raw TCP, all connected to ${r.killedNode}. Message 1 is delivered everywhere, message 2 is sent, then ${r.killedNode} gets SIGKILL (no GOAWAY, no ack flush). Messages ${r.roundsBeforeKill + 1}–${r.rounds} go to every device over \`POST /v1/messages\` (1000 devices per request), one message per device every ${(r.roundEveryMs / 1000).toFixed(1)} s, while the devices move and until all are back (${r.sendSeconds.toFixed(1)} s of sends). The devices are written to the primary in batches of 500 with tokens signed by the app's secret, as \`POST /v1/devices\` would do, because registration is not what this benchmark measures. Per-address connect limits are lifted because every device comes from 127.0.0.1. Times are from the kill; the surviving relay used ${r.survivorCpu.toFixed(1)} s of CPU in the ${r.reconnectSpan.toFixed(1)} s until every device was back, while the whole machine (2 cores, every process) was ${(r.machineBusy * 100).toFixed(0)} % busy. Connection attempts that failed before WELCOME: ${r.failedAttempts}${r.failedAttempts > 0 ? ` (${Object.entries(r.failReasons).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${v} × ${k}`).join("; ")})` : ""}. ${r.context}`,
    "",
    "| devices | messages (per device × devices) | all reconnected to the other relay | median reconnect | all resumed (every message received) | median resumed | lost | duplicated to the app |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${r.devices} | ${r.rounds} × ${r.devices} = ${r.messages} | ${s(r.allReconnectedMs)}${r.reconnected < r.devices ? ` (${r.reconnected} back)` : ""} | ${s(r.p50ReconnectMs)} | ${s(r.allResumedMs)}${r.stillMissing > 0 ? ` (${r.stillMissing} devices still missing messages)` : ""} | ${s(r.p50ResumedMs)} | ${r.lost} | ${r.duplicated} |`,
    "",
    ...(r.problems.length > 0 ? [`The run did not finish cleanly: ${r.problems.join("; ")}.`, ""] : []),
    `Lost and duplicated must both be 0: ${r.lost === 0 && r.duplicated === 0 ? "met" : "missed"}. ${r.onOtherRelay} of ${r.devices} devices ended on ${r.otherNode}.${r.duplicated > 0 ? ` Of the duplicates, ${r.sameSeqTwice} came again with the same seq (the SDK rewound to a WELCOME latestSeq below what it had, seen ${r.welcomesBehind} times) and ${r.otherSeqTwice} with another seq (stored twice).` : ""}`,
  ].join("\n");
}

export function stormHeadlines(r: StormResult): Headline[] {
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "not reached");
  return [
    { figure: `reconnect storm, ${r.devices} devices: all back and resumed`, measured: `${s(r.allResumedMs)} (median ${s(r.p50ResumedMs)})`, baseline: "–", target: "–", met: null },
    { figure: "reconnect storm: lost / duplicated", measured: `${r.lost} / ${r.duplicated}`, baseline: "–", target: "0 / 0", met: r.lost === 0 && r.duplicated === 0 && r.stillMissing === 0 },
  ];
}
