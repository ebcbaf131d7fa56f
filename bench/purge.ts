// Purge benchmark: a store holding many settled inbox rows past their retention is purged while
// sends go on at a steady rate; purge throughput (rows/s) and send accept latency before and during
// the purge, in the same run. The bound: send p99 rises at most 20 % during the purge.
import { encodeData } from "../core/codec.ts";
import { parseConfig } from "../core/config.ts";
import { uuidv7 } from "../core/ids.ts";
import { startTestMesh, type TestMesh } from "../test-support/harness.ts";
import type { Headline } from "./headline.ts";

export type PurgeResult = {
  rows: number;
  deleted: number;
  purgeSeconds: number;
  rate: number;
  batchRows: number;
  before: LatencyPhase;
  during: LatencyPhase;
};
type LatencyPhase = { sends: number; p50Ms: number; p99Ms: number; errors: number };

const DEVICES = 1000;

export async function runPurge(quick: boolean): Promise<PurgeResult> {
  const messages = quick ? 20 : 300;
  const rate = 400;
  await using mesh = await startTestMesh({ purgeIntervalSeconds: 86_400 });
  const rows = await fillSettled(mesh, messages);
  await mesh.api("POST", "/v1/devices", { deviceId: "live" });
  await mesh.store.setAppRetention(mesh.appId, { settledSeconds: 3600, topicSeconds: null, topicMaxEntries: null });
  await sendAt(mesh, rate, 1_000); // warm-up
  const before = await sendAt(mesh, rate, quick ? 2_000 : 10_000);
  const started = performance.now();
  let purgeDone = false;
  let purgeSeconds = 0;
  const purge = mesh.purger.runOnce().finally(() => {
    purgeDone = true;
    purgeSeconds = (performance.now() - started) / 1000;
  });
  // Sends go on for the whole purge, and at least as long as the baseline's phase.
  const during = await sendAt(mesh, rate, quick ? 2_000 : 5_000, () => purgeDone);
  const deleted = Object.values(await purge).reduce((a, b) => a + b, 0);
  return { rows, deleted, purgeSeconds, rate, batchRows: parseConfig({}).purgeBatchRows, before, during };
}

/** `messages` messages to each of DEVICES devices, a day old, all delivered: rows a one-hour retention purges. */
async function fillSettled(mesh: TestMesh, messages: number): Promise<number> {
  const deviceIds = Array.from({ length: DEVICES }, (_, i) => `old-${i}`);
  await mesh.store.registerDevices(mesh.appId, deviceIds);
  const old = Date.now() - 24 * 3600_000;
  for (let n = 0; n < messages; n++) {
    const message = { appId: mesh.appId, messageId: uuidv7(), priority: 1 as const, data: encodeData({ n }), collapseKey: null, category: null, createdAt: old + n, expiresAt: null };
    await mesh.store.writeMessage({ message, targetCount: DEVICES, deliver: deviceIds, deferred: [], at: old + n });
  }
  await mesh.store.markDelivered(deviceIds.map((deviceId) => ({ appId: mesh.appId, deviceId, seq: messages })), old + messages);
  return messages * DEVICES;
}

/** Sends at `perSecond` for at least `ms` (and, given `until`, until it holds); each send's accept latency. */
async function sendAt(mesh: TestMesh, perSecond: number, ms: number, until?: () => boolean): Promise<LatencyPhase> {
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; performance.now() - start < ms || (until && !until()); i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const sent = performance.now();
    inFlight.push(
      mesh.api("POST", "/v1/messages", { to: { deviceId: "live" }, data: { i } }).then((res) => {
        if (res.status === 202) latencies.push(performance.now() - sent);
        else errors++;
      }),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { sends: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

export function purgeMarkdown(r: PurgeResult): string {
  const row = (name: string, x: LatencyPhase) => `| ${name} | ${x.sends} | ${x.p50Ms.toFixed(2)} ms | ${x.p99Ms.toFixed(2)} ms | ${x.errors} |`;
  return [
    `One process (edge, relay, store on a libSQL file). ${r.rows.toLocaleString("en-US")} delivered inbox rows a day old (${DEVICES} devices) under a one-hour retention; sends to another device at ${r.rate}/s before and during the purge (POST /v1/messages accept latency, measured by a client in the same process).`,
    "",
    `Purge: ${r.deleted.toLocaleString("en-US")} rows (inbox rows and their messages) in ${r.purgeSeconds.toFixed(2)} s = **${Math.round(r.deleted / r.purgeSeconds).toLocaleString("en-US")} rows/s**, in windows of ${r.batchRows} rows (config \`purgeBatchRows\`), each followed by a pause of at least 5 ms and four times the window's own time.`,
    "",
    "| sends | accepted | p50 | p99 | errors |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("before the purge (baseline)", r.before),
    row("during the purge", r.during),
  ].join("\n");
}

export function purgeHeadlines(r: PurgeResult): Headline[] {
  const rise = r.during.p99Ms / r.before.p99Ms;
  return [
    {
      figure: "purge while sending: rows/s, send p99 during / before",
      measured: `${Math.round(r.deleted / r.purgeSeconds).toLocaleString("en-US")} rows/s; p99 ${r.during.p99Ms.toFixed(2)} ms (${rise.toFixed(2)}×)`,
      baseline: `p99 before: ${r.before.p99Ms.toFixed(2)} ms`,
      target: "p99 rises ≤ 20 %",
      met: rise <= 1.2 && r.during.errors === 0,
    },
  ];
}
