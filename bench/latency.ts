// End-to-end latency and edge throughput. The mesh runs as `pushmesh dev` in its own process on a
// libSQL file; this process is the load: it sends over HTTP and holds the devices, so send and
// receive times come from one clock. The baseline for throughput is a Hono hello-world route on
// Bun in its own process, driven by the same load in the same run.
import { loadavg } from "node:os";
import { join } from "node:path";
import { type ClientEvent, MemoryStateStore, PushClient } from "../core/client/client.ts";
import { webSocketTransport } from "../core/client/transport.ts";
import { tempDir } from "../test-support/harness.ts";
import { startDev } from "../test-support/process.ts";
import { type Bar, barChart } from "./plot.ts";
import { type Headline, perSecond } from "./headline.ts";

export type LatencyRow = { rate: number; sent: number; received: number; p50: number; p90: number; p99: number; max: number };
export type ThroughputRow = { target: string; concurrency: number; requests: number; messages: number; seconds: number; perSecond: number; failed: number };
/** `loadAverage`: the machine's 1-minute load average before and after the run; on a shared machine other work moves every figure here. */
export type LatencyResult = { latency: LatencyRow[]; throughput: ThroughputRow[]; loadAverage: [number, number] };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function post(url: string, key: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Sends at a fixed rate (open loop) to `devices`, recording accept→receive latency per message. */
async function measureLatency(edge: string, apiKey: string, ws: string, devices: { deviceId: string; token: string }[], rate: number, seconds: number): Promise<LatencyRow> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const clients = devices.map(
    (d) =>
      new PushClient({
        deviceId: d.deviceId,
        token: d.token,
        addresses: [ws],
        transport: webSocketTransport(),
        state: new MemoryStateStore(),
        onMessage: (m) => {
          const start = sentAt.get((m.data as { id: string }).id);
          if (start !== undefined) latencies.push(performance.now() - start);
        },
      }),
  );
  const connected = clients.map(
    (c) =>
      new Promise<void>((resolve) => {
        (c as unknown as { options: { onEvent?: (e: ClientEvent) => void } }).options.onEvent = (e) => {
          if (e.type === "connected") resolve();
        };
      }),
  );
  await Promise.all(clients.map((c) => c.start()));
  await Promise.all(connected);
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const started = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    const id = `m${rate}-${i}`;
    const device = devices[i % devices.length]!;
    sentAt.set(id, performance.now());
    inflight.push(post(`${edge}/v1/messages`, apiKey, { to: { deviceId: device.deviceId }, data: { id } }));
  }
  await Promise.all(inflight);
  const deadline = performance.now() + 5000;
  while (latencies.length < total && performance.now() < deadline) await Bun.sleep(20);
  await Promise.all(clients.map((c) => c.stop()));
  const sorted = [...latencies].sort((a, b) => a - b);
  return { rate, sent: total, received: latencies.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** Closed loop: `concurrency` requests in flight for `seconds`; accepted requests and messages per second. */
async function measureThroughput(target: string, concurrency: number, seconds: number, request: () => Promise<number>, messagesPerRequest: number): Promise<ThroughputRow> {
  let requests = 0;
  let failed = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const status = await request().catch(() => 0);
        if (status >= 200 && status < 300) requests++;
        else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { target, concurrency, requests, messages: requests * messagesPerRequest, seconds: elapsed, perSecond: (requests * messagesPerRequest) / elapsed, failed };
}

export async function runLatency(quick: boolean): Promise<LatencyResult> {
  const loadBefore = loadavg()[0]!;
  using dir = tempDir();
  // The per-app request limit (default 10,000/s) is raised above what the load can offer: this run
  // measures the send path, and at the default the limiter, not the path, would cap single sends at
  // the 10,000/s target. The limiter still counts every request, so its cost is in the figures.
  await using dev = await startDev(join(dir.path, "mesh.db"), ["--rate-limit-requests", "10000000"]);
  const { edge, apiKey, ws } = dev.ready;
  const deviceCount = quick ? 20 : 200;
  const devices: { deviceId: string; token: string }[] = [];
  for (let i = 0; i < deviceCount; i++) {
    const res = await fetch(`${edge}/v1/devices`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ deviceId: `lat-${i}` }) });
    devices.push((await res.json()) as { deviceId: string; token: string });
  }
  const latency: LatencyRow[] = [];
  for (const rate of quick ? [200] : [1000, 5000]) {
    process.stderr.write(`  latency at ${rate}/s…\n`);
    latency.push(await measureLatency(edge, apiKey, ws, devices, rate, quick ? 1 : 5));
  }

  // Throughput: single sends, batches of 100, and the Hono baseline, each from the same load.
  const seconds = quick ? 1 : 5;
  const concurrency = 32;
  const throughput: ThroughputRow[] = [];
  const hello = Bun.spawn([process.execPath, join(import.meta.dir, "hono-hello.ts")], { stdout: "pipe", stderr: "inherit" });
  try {
    const reader = hello.stdout.getReader();
    const helloUrl = new TextDecoder().decode((await reader.read()).value).trim();
    reader.releaseLock();
    process.stderr.write("  throughput: Hono hello-world…\n");
    throughput.push(await measureThroughput("Hono hello-world route (baseline)", concurrency, seconds, () => post(`${helloUrl}/hello`, apiKey, { name: "x" }), 1));
  } finally {
    hello.kill();
  }
  let n = 0;
  const next = () => devices[n++ % devices.length]!.deviceId;
  process.stderr.write("  throughput: POST /v1/messages…\n");
  throughput.push(await measureThroughput("POST /v1/messages (1 message)", concurrency, seconds, () => post(`${edge}/v1/messages`, apiKey, { to: { deviceId: next() }, data: { n } }), 1));
  process.stderr.write("  throughput: POST /v1/messages/batch…\n");
  throughput.push(
    await measureThroughput(
      "POST /v1/messages/batch (100 messages)",
      8,
      seconds,
      () => post(`${edge}/v1/messages/batch`, apiKey, { messages: Array.from({ length: 100 }, () => ({ to: { deviceId: next() }, data: { n } })) }),
      100,
    ),
  );
  return { latency, throughput, loadAverage: [loadBefore, loadavg()[0]!] };
}

export function latencyMarkdown(r: LatencyResult): string {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
  const base = r.throughput[0]?.perSecond ?? Number.NaN;
  return [
    "The mesh runs as `pushmesh dev` (one process, libSQL file, dbSync full); the load and the devices run in the benchmark's process; 2 cores shared by both.",
    `Load average (1 min) before and after the run: ${r.loadAverage.map((l) => l.toFixed(1)).join(" → ")}; above 2 other work competed for the two cores.`,
    "",
    "| offered rate (/s) | sent | received | p50 ms | p90 ms | p99 ms | max ms | target |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...r.latency.map((l) => {
      const target = P99_TARGET_MS[l.rate];
      return `| ${l.rate} | ${l.sent} | ${l.received} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${target === undefined ? "" : `p99 ≤ ${target} ms: ${metOrMissed(l.p99 <= target)}`} |`;
    }),
    "",
    "| endpoint | concurrency | accepted requests | messages/s | vs Hono hello-world requests/s | failed | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...r.throughput.map((t) => `| ${t.target} | ${t.concurrency} | ${t.requests} | ${t.perSecond.toFixed(0)} | ${(t.perSecond / base).toFixed(2)} | ${t.failed} | ${throughputTarget(t, base)} |`),
    "",
    "Targets: single sends ≥ 0.5× the hello-world requests/s and ≥ 10,000 accepted/s; batch messages/s ≥ 2× hello-world; accept → receive p99 ≤ 5 ms at 1,000/s and ≤ 20 ms at 5,000/s.",
  ].join("\n");
}

/** Accept → receive p99 targets by offered rate. */
const P99_TARGET_MS: Record<number, number> = { 1000: 5, 5000: 20 };
const metOrMissed = (met: boolean) => (met ? "met" : "**missed**");

function throughputTarget(t: ThroughputRow, base: number): string {
  if (t.target.startsWith("Hono")) return "";
  const ratio = t.perSecond / base;
  if (t.target.includes("batch")) return `≥ 2× hello-world: ${metOrMissed(ratio >= 2)}`;
  return `≥ 0.5× hello-world and ≥ 10,000/s: ${metOrMissed(ratio >= 0.5 && t.perSecond >= 10_000)}`;
}

export function latencyChart(r: LatencyResult): string {
  const bars: Bar[] = r.latency.flatMap((l) => [
    { group: `${l.rate}/s offered`, series: "p50", value: l.p50 },
    { group: `${l.rate}/s offered`, series: "p90", value: l.p90 },
    { group: `${l.rate}/s offered`, series: "p99", value: l.p99 },
  ]);
  return barChart(bars, "accepted → received, ms →", (n) => n.toFixed(1));
}

export function latencyHeadlines(r: LatencyResult): Headline[] {
  const out: Headline[] = [];
  for (const l of r.latency) {
    const target = P99_TARGET_MS[l.rate];
    if (target === undefined) continue;
    out.push({ figure: `send accepted → device receives at ${l.rate.toLocaleString("en")}/s`, measured: `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`, baseline: "–", target: `p99 ≤ ${target} ms`, met: l.p99 <= target });
  }
  const hello = r.throughput.find((t) => t.target.startsWith("Hono"));
  const base = hello?.perSecond ?? Number.NaN;
  for (const t of r.throughput.filter((x) => x !== hello)) {
    const batch = t.target.includes("batch");
    const ratio = t.perSecond / base;
    out.push({
      figure: `accepted messages, ${t.target}`,
      measured: `${perSecond(t.perSecond)} (${ratio.toFixed(2)}×)`,
      baseline: hello ? `Hono hello-world ${perSecond(hello.perSecond)} requests` : "–",
      target: batch ? "≥ 2× hello-world" : "≥ 0.5× hello-world, ≥ 10,000/s per process",
      met: batch ? ratio >= 2 : ratio >= 0.5 && t.perSecond >= 10_000,
    });
  }
  return out;
}
