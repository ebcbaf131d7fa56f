// Store outage: the cluster in three regions with a store per region (as bench/regions.ts), with
// every device sent to steadily by its own sender. Region a's home primary is killed with -9 for a
// while, then again with region a's edge killed -9 too while its spool holds sends. Counted, per
// device region: what was accepted (directly, or queued at an edge), what was refused and how, and
// of the accepted ones what was lost, delivered twice or out of order, and the direct sends'
// latency while a was away; and how long the spool took to drain.
import { MemoryStateStore, PushClient } from "../core/client/client.ts";
import { webSocketTransport } from "../core/client/transport.ts";
import { type Cluster, startCluster } from "../ops/cluster.ts";
import type { Headline } from "./headline.ts";

const REGIONS = ["a", "b", "c"];
const WAN = { a: { b: 20, c: 40 }, b: { c: 30 } };

type Sent = { n: number; messageId: string; queued: boolean; at: number; duringOutage: boolean; edge: string };
type Sender = { deviceId: string; region: string; sent: Sent[]; refused: Map<string, number>; got: { n: number; messageId: string; at: number }[]; edge?: string };

export type OutageRun = {
  name: string;
  outageMs: number;
  accepted: number;
  queued: number;
  refused: Record<string, number>;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** From the primary's return to the last queued send received. */
  drainMs: number;
  directP50: number;
  queuedP99: number;
  /** Per device region: direct sends' p50 while a's primary was away, and refusals. */
  byRegion: Record<string, { refused: number; sent: number }>;
  /** Per edge region → device region of b and c: the p50 of sends written at once, before a's primary was killed and while it was away. */
  byPair: Record<string, { beforeP50: number; outageP50: number }>;
};
export type OutageResult = { runs: OutageRun[] };

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/**
 * One send, as a careful back end makes it: with an idempotency key, and when its edge does not
 * answer (killed), once more through the next region's edge with the same key, which it then
 * keeps using (flapping between edges would let a later send overtake one still queued).
 */
async function send(cluster: Cluster, sender: Sender, edgeRegion: string, n: number, outage: { on: boolean }): Promise<void> {
  const at = performance.now();
  const duringOutage = outage.on;
  const first = sender.edge ?? edgeRegion;
  const edges = [first, REGIONS[(REGIONS.indexOf(first) + 1) % REGIONS.length]!];
  for (const [attempt, region] of edges.entries()) {
    if (attempt > 0) sender.edge = region;
    try {
      const res = await fetch(`${cluster.regions[region]!.edge}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ to: { deviceId: sender.deviceId }, data: { n }, idempotencyKey: `${sender.deviceId}-${n}` }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as { messageId?: string; state?: string; error?: { code: string } };
      if (res.status === 202) sender.sent.push({ n, messageId: body.messageId!, queued: body.state === "queued", at, duringOutage, edge: region });
      else sender.refused.set(`${res.status} ${body.error?.code}`, (sender.refused.get(`${res.status} ${body.error?.code}`) ?? 0) + 1);
      return;
    } catch (error) {
      if (attempt + 1 < edges.length) continue;
      const key = `no answer (${(error as Error).name})`;
      sender.refused.set(key, (sender.refused.get(key) ?? 0) + 1);
    }
  }
}

async function phase(cluster: Cluster, senders: Sender[], intervalMs: number, stopAt: () => boolean, counter: { n: number }, outage: { on: boolean }): Promise<void> {
  await Promise.all(
    senders.map(async (sender, i) => {
      while (!stopAt()) {
        const n = ++counter.n;
        // Each device's sender uses one edge, as a back end uses its nearest: the three devices of a
        // region are sent to through the three regions' edges. Order holds per sender and device.
        await send(cluster, sender, REGIONS[i % REGIONS.length]!, n, outage);
        await Bun.sleep(intervalMs);
      }
    }),
  );
}

async function oneRun(name: string, cluster: Cluster, senders: Sender[], quick: boolean, killEdge: boolean): Promise<OutageRun> {
  for (const s of senders) {
    s.sent = [];
    s.edge = undefined;
    s.refused.clear();
    s.got = [];
  }
  const intervalMs = 30;
  const outageMs = quick ? 3000 : 10_000;
  let stopping = false;
  // Numbers (and so idempotency keys) of the second run follow on from the first's.
  const counter = { n: killEdge ? 1_000_000 : 0 };
  const outage = { on: false };
  const sending = phase(cluster, senders, intervalMs, () => stopping, counter, outage);
  await Bun.sleep(quick ? 1000 : 3000);
  const killAt = performance.now();
  await cluster.primary.kill();
  outage.on = true;
  if (killEdge) {
    await Bun.sleep(outageMs / 2);
    await cluster.killEdge("a");
    await Bun.sleep(1000);
    await cluster.restartEdge("a");
    await Bun.sleep(outageMs / 2 - 1000);
  } else {
    await Bun.sleep(outageMs);
  }
  await cluster.primary.restart();
  outage.on = false;
  const back = performance.now();
  await Bun.sleep(quick ? 1000 : 3000);
  stopping = true;
  await sending;
  const deadline = performance.now() + 30_000;
  // By `n`, not by message id: a send retried through another edge with its idempotency key may
  // answer with the id that edge gave it while the first edge's copy is the one written.
  const missing = () => senders.reduce((sum, s) => sum + s.sent.filter((x) => !s.got.some((g) => g.n === x.n)).length, 0);
  while (missing() > 0 && performance.now() < deadline) await Bun.sleep(50);
  await Bun.sleep(500);

  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let lastQueued = back;
  const direct: number[] = [];
  const queued: number[] = [];
  const refused: Record<string, number> = {};
  for (const s of senders) {
    for (const [k, v] of s.refused) refused[k] = (refused[k] ?? 0) + v;
    const seen = new Map<number, number>();
    for (const g of s.got) seen.set(g.n, (seen.get(g.n) ?? 0) + 1);
    duplicated += [...seen.values()].filter((c) => c > 1).length;
    for (const x of s.sent) {
      const g = s.got.find((y) => y.n === x.n);
      if (!g) lost++;
      else if (x.queued) {
        queued.push(g.at - x.at);
        lastQueued = Math.max(lastQueued, g.at);
      } else direct.push(g.at - x.at);
    }
    // Sends to one device were made one after another: they must arrive in that order.
    const order = s.got.map((g) => g.n);
    for (let i = 1; i < order.length; i++) if (order[i]! <= order[i - 1]!) outOfOrder++;
  }
  const accepted = senders.reduce((sum, s) => sum + s.sent.length, 0);
  const byRegion: OutageRun["byRegion"] = {};
  const byPair: OutageRun["byPair"] = {};
  for (const region of REGIONS) {
    const mine = senders.filter((s) => s.region === region);
    byRegion[region] = {
      refused: mine.reduce((sum, s) => sum + [...s.refused.values()].reduce((a, b) => a + b, 0), 0),
      sent: mine.reduce((sum, s) => sum + s.sent.length, 0),
    };
    if (region === "a") continue;
    // Per path (edge region → device region): a region's p50 mixes paths of 0 to 40 ms one-way.
    for (const edge of REGIONS) {
      const latencies = (which: (x: Sent) => boolean) =>
        mine.flatMap((s) =>
          s.sent.filter((x) => x.edge === edge && which(x) && !x.queued).flatMap((x) => {
            const g = s.got.find((y) => y.n === x.n);
            return g ? [g.at - x.at] : [];
          }),
        );
      byPair[`${edge} → ${region}`] = { beforeP50: percentile(latencies((x) => x.at < killAt), 50), outageP50: percentile(latencies((x) => x.duringOutage), 50) };
    }
  }
  const run: OutageRun = {
    name,
    outageMs,
    accepted,
    queued: senders.reduce((sum, s) => sum + s.sent.filter((x) => x.queued).length, 0),
    refused,
    lost,
    duplicated,
    outOfOrder,
    drainMs: lastQueued - back,
    directP50: percentile(direct, 50),
    queuedP99: percentile(queued, 99),
    byRegion,
    byPair,
  };
  process.stderr.write(`  ${name}: ${JSON.stringify(run)}\n`);
  return run;
}

export async function runOutage(quick: boolean): Promise<OutageResult> {
  await using cluster = await startCluster({ regions: REGIONS, relaysPerRegion: 1, homes: true, edgeEngine: "redis", wan: WAN, extraFlags: ["--node-report-ms", "300", "--heartbeat", '{"min":1,"default":5,"max":600}'] });
  const senders: Sender[] = [];
  const clients: PushClient[] = [];
  for (const region of REGIONS) {
    for (let i = 0; i < 3; i++) {
      const deviceId = `${region}-dev-${i}`;
      const res = await fetch(`${cluster.regions[region]!.edge}/v1/devices`, {
        method: "POST",
        headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ deviceId }),
      });
      const creds = (await res.json()) as { deviceId: string; token: string };
      const sender: Sender = { deviceId, region, sent: [], refused: new Map(), got: [] };
      const client = new PushClient({
        deviceId,
        token: creds.token,
        addresses: [cluster.regions[region]!.relays[0]!.ws],
        transport: webSocketTransport(),
        state: new MemoryStateStore(),
        heartbeat: 5,
        onMessage: (m) => void sender.got.push({ n: (m.data as { n: number }).n, messageId: m.messageId, at: performance.now() }),
      });
      await client.start();
      senders.push(sender);
      clients.push(client);
    }
  }
  try {
    const runs = [await oneRun("a's primary killed", cluster, senders, quick, false), await oneRun("a's primary and a's edge killed", cluster, senders, quick, true)];
    return { runs };
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
}

export function outageMarkdown(r: OutageResult): string {
  return [
    `Regions a, b, c with a store per region (a sqld primary and a Redis in each, the global database in a) and injected one-way latency a–b 20 ms, a–c 40 ms, b–c 30 ms. Nine devices, three per region, each on its own region's relay; each device has a sender of its own that sends, waits for the answer and 30 ms more, always through one edge first (the three devices of each region through the edges of a, b and c, so every edge region → device region pair is there), with an idempotency key, and when that edge does not answer, once more through the next region's edge with the same key, as a careful back end would. Each run: sends for a while, region a's home primary killed with -9 for ${r.runs[0] ? r.runs[0].outageMs / 1000 : 10} s (in the second run, region a's edge is also killed with -9 half way through, while its spool holds sends, and started again 1 s later), sends for a while after, then every accepted send is waited for. Sends for a's devices are kept in the spool of a's edge (or, while that edge is down, of the edge that took them) and forwarded in order once the primary is back.`,
    "",
    "| run | a's primary away | accepted (202) | of them queued at an edge | refused | lost | delivered twice | out of order | primary back → spool drained | direct send → receive p50 | queued send → receive p99 |",
    "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.runs.map(
      (x) =>
        `| ${x.name} | ${x.outageMs / 1000} s | ${x.accepted} | ${x.queued} | ${Object.entries(x.refused).map(([k, v]) => `${v} × ${k}`).join(", ") || "0"} | ${x.lost} | ${x.duplicated} | ${x.outOfOrder} | ${(x.drainMs / 1000).toFixed(2)} s | ${x.directP50.toFixed(1)} ms | ${(x.queuedP99 / 1000).toFixed(2)} s |`,
    ),
    "",
    "Per device region, sends accepted and refused:",
    "",
    "| run | device region | accepted | refused |",
    "| --- | --- | ---: | ---: |",
    ...r.runs.flatMap((x) => Object.entries(x.byRegion).map(([region, v]) => `| ${x.name} | ${region} | ${v.sent} | ${v.refused} |`)),
    "",
    "Devices of b and c, per path: the p50 of sends written at once, in the seconds before a's primary was killed and while it was away (a's devices' sends were all queued then).",
    "",
    "| run | edge region → device region | direct send → receive p50 before | p50 while a was away |",
    "| --- | --- | ---: | ---: |",
    ...r.runs.flatMap((x) => Object.entries(x.byPair).map(([pair, v]) => `| ${x.name} | ${pair} | ${v.beforeP50.toFixed(1)} ms | ${v.outageP50.toFixed(1)} ms |`)),
  ].join("\n");
}

export function outageHeadlines(r: OutageResult): Headline[] {
  return r.runs.flatMap((x) => [outcomeHeadline(x), othersHeadline(x)]);
}

/** Devices homed in b and c while a's primary is away: each path's p50 against before it went. */
function othersHeadline(x: OutageRun): Headline {
  const pairs = Object.entries(x.byPair);
  const worst = pairs.reduce((w, p) => (p[1].outageP50 - p[1].beforeP50 > w[1].outageP50 - w[1].beforeP50 ? p : w), pairs[0]!);
  const refused = ["b", "c"].reduce((n, region) => n + (x.byRegion[region]?.refused ?? 0), 0);
  return {
    figure: `store outage (${x.name}): b and c devices' send → receive p50 per path while a's primary is away`,
    measured: `${pairs.filter(([, v]) => v.outageP50 <= v.beforeP50 + 5).length} of ${pairs.length} paths within 5 ms of before; most changed ${worst[0]} ${worst[1].outageP50.toFixed(1)} ms; ${refused} refused`,
    baseline: `${worst[0]} ${worst[1].beforeP50.toFixed(1)} ms before`,
    target: "within 5 ms of before, 0 refused",
    met: pairs.every(([, v]) => v.outageP50 <= v.beforeP50 + 5) && refused === 0,
  };
}

function outcomeHeadline(x: OutageRun): Headline {
  const refused = Object.values(x.refused).reduce((a, b) => a + b, 0);
  return {
    figure: `store outage (${x.name}): lost, twice, out of order, refused`,
    measured: `${x.lost}, ${x.duplicated}, ${x.outOfOrder}, ${refused} of ${x.accepted + refused} (${x.queued} queued at an edge)`,
    baseline: "–",
    target: "0, 0, 0, 0",
    met: x.lost === 0 && x.duplicated === 0 && x.outOfOrder === 0 && refused === 0,
  };
}
