// Multi-region latency: the cluster topology in three regions, a store and a Redis per region
// (regional write homes), with user-space proxies delaying every cross-region link (ops/latency-proxy.ts; this machine has no tc netem). Devices pick a
// relay the way the SDK does (ranked /v1/nodes from their region's edge, parallel probes, keep
// the fastest) over links that are themselves delayed; then every edge sends to devices in every
// region and the send → receive time is reported against the injected one-way latency.
import { MemoryStateStore, PushClient } from "../core/client/client.ts";
import { type Candidate, fetchNodeList, pickRelay } from "../core/client/bootstrap.ts";
import { webSocketTransport } from "../core/client/transport.ts";
import { type Cluster, oneWayMs, startCluster } from "../ops/cluster.ts";
import { startLatencyProxy } from "../ops/latency-proxy.ts";
import { matrixChart } from "./plot.ts";
import type { Headline } from "./headline.ts";

const REGIONS = ["a", "b", "c"];
const WAN = { a: { b: 20, c: 40 }, b: { c: 30 } };

export type RegionsResult = {
  devicesPerRegion: number;
  inRegionPicks: number;
  matrix: { from: string; to: string; injected: number; p50: number; p99: number; n: number }[];
};

type Device = { region: string; client: PushClient; nodeId: string; received: Map<string, number> };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function rttTable(): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const [from, tos] of Object.entries(WAN)) for (const [to, ms] of Object.entries(tos)) (table[from] ??= {})[to] = ms * 2;
  return table;
}

async function api(cluster: Cluster, region: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${cluster.regions[region]!.edge}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A device in `region` reaches a relay in another region through a delaying proxy of its own. */
function wanAddress(proxies: Map<string, string>, stop: (() => void)[], region: string, relayRegion: string, ws: string): string {
  const delay = oneWayMs(WAN, region, relayRegion);
  if (delay === 0) return ws;
  const key = `${region}->${ws}`;
  let address = proxies.get(key);
  if (!address) {
    const url = new URL(ws);
    const proxy = startLatencyProxy(url.host, delay);
    stop.push(() => proxy.stop());
    url.host = proxy.address;
    address = url.toString().replace(/\/$/, "");
    proxies.set(key, address);
  }
  return address;
}

function probeWebSocket(candidate: Candidate): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(candidate.address);
    ws.onopen = () => {
      resolve(performance.now() - started);
      ws.close();
    };
    ws.onerror = () => reject(new Error("probe failed"));
  });
}

export async function runRegions(quick: boolean): Promise<RegionsResult> {
  const perRegion = quick ? 2 : 10;
  const messages = quick ? 3 : 20;
  const stop: (() => void)[] = [];
  await using cluster = await startCluster({
    regions: REGIONS,
    relaysPerRegion: 1,
    homes: true,
    edgeEngine: "redis",
    wan: WAN,
    extraFlags: ["--rtt-table", JSON.stringify(rttTable()), "--node-report-ms", "300"],
  });
  try {
    await Bun.sleep(700);
    const proxies = new Map<string, string>();
    const relayRegion = new Map<string, string>();
    for (const region of REGIONS) for (const r of cluster.regions[region]!.relays) relayRegion.set(r.nodeId, region);
    const devices: Device[] = [];
    for (const region of REGIONS) {
      for (let i = 0; i < perRegion; i++) {
        const creds = (await (await api(cluster, region, "/v1/devices", { deviceId: `${region}-dev-${i}` })).json()) as { deviceId: string; token: string };
        const pick = await pickRelay({
          transport: "ws",
          fetchNodes: async () => {
            const answer = await fetchNodeList(fetch, cluster.regions[region]!.edge, { region });
            for (const n of answer.nodes) n.ws = wanAddress(proxies, stop, region, n.region, n.ws);
            return answer;
          },
          fallback: [],
          probe: probeWebSocket,
          probeCount: 3,
        });
        if (!pick.chosen) throw new Error(`device in ${region} found no relay`);
        const received = new Map<string, number>();
        const client = new PushClient({
          deviceId: creds.deviceId,
          token: creds.token,
          addresses: [pick.chosen.address],
          transport: webSocketTransport(),
          state: new MemoryStateStore(),
          onMessage: (m) => void received.set((m.data as { id: string }).id, performance.now()),
        });
        await client.start();
        devices.push({ region, client, nodeId: pick.chosen.nodeId, received });
      }
    }
    await Bun.sleep(500);
    const inRegionPicks = devices.filter((d) => relayRegion.get(d.nodeId) === d.region).length;
    process.stderr.write(`  ${inRegionPicks} of ${devices.length} devices picked a relay in their own region\n`);

    // Warm-up, not counted: each edge's first sends open its links to the other edges and load its
    // engine script, once per process.
    for (const from of REGIONS) {
      for (const to of REGIONS) {
        for (const device of devices.filter((d) => d.region === to).slice(0, 2)) {
          const deviceId = (device.client as unknown as { options: { deviceId: string } }).options.deviceId;
          await (await api(cluster, from, "/v1/messages", { to: { deviceId }, data: { id: `warm-${from}-${to}` } })).arrayBuffer();
        }
      }
    }
    await Bun.sleep(500);

    const matrix: RegionsResult["matrix"] = [];
    for (const from of REGIONS) {
      for (const to of REGIONS) {
        const targets = devices.filter((d) => d.region === to);
        const sent = new Map<string, { at: number; device: Device }>();
        for (let i = 0; i < messages; i++) {
          const device = targets[i % targets.length]!;
          const id = `${from}->${to}-${i}`;
          sent.set(id, { at: performance.now(), device });
          const res = await api(cluster, from, "/v1/messages", { to: { deviceId: (device.client as unknown as { options: { deviceId: string } }).options.deviceId }, data: { id } });
          await res.arrayBuffer();
          await Bun.sleep(20);
        }
        const deadline = performance.now() + 5000;
        while ([...sent].some(([id, s]) => !s.device.received.has(id)) && performance.now() < deadline) await Bun.sleep(20);
        const times = [...sent].flatMap(([id, s]) => (s.device.received.has(id) ? [s.device.received.get(id)! - s.at] : [])).sort((x, y) => x - y);
        matrix.push({ from, to, injected: oneWayMs(WAN, from, to), p50: percentile(times, 50), p99: percentile(times, 99), n: times.length });
        process.stderr.write(`  ${from} → ${to}: p50 ${percentile(times, 50).toFixed(1)} ms\n`);
      }
    }
    await Promise.all(devices.map((d) => d.client.stop()));
    return { devicesPerRegion: perRegion, inRegionPicks, matrix };
  } finally {
    for (const s of stop) s();
  }
}

export function regionsMarkdown(r: RegionsResult): string {
  const total = r.devicesPerRegion * REGIONS.length;
  return [
    `Regions a, b, c, each with its own sqld primary (the home of its devices) and Redis; the global database's primary in a. Injected one-way latency a–b 20 ms, a–c 40 ms, b–c 30 ms on every cross-region link (device → relay, edge → edge hand-overs, process → global primary). Each device is registered at its own region's edge, so it is homed there; a send to a device of another region is handed by the edge that took it to the device's home edge, which writes it and signals beside the device's relay. ${r.inRegionPicks} of ${total} devices picked a relay in their own region through /v1/nodes and parallel probes. Each edge first sends two messages to devices of every region, not counted (it opens its links to the other edges and loads its engine script once).`,
    "",
    "| edge region → device region | injected one-way ms (edge ↔ device region) | send → receive p50 ms | p99 ms | received | target p50 (cross-region: one-way + 5 ms) |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...r.matrix.map(
      (m) => `| ${m.from} → ${m.to} | ${m.injected} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.n} | ${m.from === m.to ? "–" : `≤ ${m.injected + 5} ms`} |`,
    ),
  ].join("\n");
}

export function regionsChart(r: RegionsResult): string {
  return matrixChart(
    r.matrix.map((m) => ({ from: m.from, to: m.to, value: m.p50, label: `${m.p50.toFixed(0)} ms (${m.injected})` })),
    "p50 ms (injected one-way ms)",
  );
}

export function regionsHeadlines(r: RegionsResult): Headline[] {
  const cross = r.matrix.filter((m) => m.from !== m.to);
  const met = cross.filter((m) => m.p50 <= m.injected + 5);
  const worst = cross.reduce((a, b) => (b.p50 - b.injected > a.p50 - a.injected ? b : a), cross[0]!);
  const same = r.matrix.filter((m) => m.from === m.to);
  const slowest = same.reduce((a, b) => (b.p50 > a.p50 ? b : a), same[0]!);
  return [
    {
      figure: "same-region send → receive p50",
      measured: same.map((m) => `${m.from} ${m.p50.toFixed(1)} ms`).join(", "),
      baseline: "–",
      target: "≤ 5 ms in every region",
      met: slowest.p50 <= 5,
    },
    { figure: "devices that picked a relay in their own region", measured: `${r.inRegionPicks} of ${r.devicesPerRegion * REGIONS.length}`, baseline: "–", target: "–", met: null },
    {
      figure: "cross-region send → receive p50",
      measured: `${met.length} of ${cross.length} pairs within target; worst ${worst.from} → ${worst.to} ${worst.p50.toFixed(0)} ms`,
      baseline: `injected one-way ${worst.injected} ms`,
      target: "≤ one-way + 5 ms",
      met: met.length === cross.length,
    },
  ];
}
