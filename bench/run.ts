// `npm run bench -- [name] [--quick]`: runs benchmarks, prints their figures, and writes
// docs/benchmarks.md with the machine they ran on.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, describeRun } from "./machine.ts";
import { type Headline, headlineTable } from "./headline.ts";
import { drainMarkdown, runDrain , drainHeadlines } from "./drain.ts";
import { latencyChart, latencyMarkdown, runLatency , latencyHeadlines } from "./latency.ts";
import { regionsChart, regionsMarkdown, runRegions , regionsHeadlines } from "./regions.ts";
import { runStall, stallMarkdown , stallHeadlines } from "./stall.ts";
import { runWire, wireChart, wireMarkdown , wireHeadlines } from "./wire.ts";
import { connectionsChart, connectionsMarkdown, runConnections , connectionsHeadlines } from "./connections.ts";
import { fanoutHeadlines, fanoutMarkdown, runFanout } from "./fanout.ts";
import { runThroughput, throughputChart, throughputMarkdown , throughputHeadlines } from "./throughput.ts";
import { runStorm, stormMarkdown , stormHeadlines } from "./storm.ts";
import { hostHeadlines, hostMarkdown, runHost } from "./host.ts";
import { mosquittoHeadlines, mosquittoMarkdown, runMosquitto } from "./mosquitto.ts";
import { purgeHeadlines, purgeMarkdown, runPurge } from "./purge.ts";
import { fallbackHeadlines, fallbackMarkdown, runFallback } from "./fallback.ts";
import { outageHeadlines, outageMarkdown, runOutage } from "./outage.ts";

/** A benchmark's section: its tables, and an SVG chart written beside docs/benchmarks.md. */
type Outcome = { table: string; svg?: string; headlines: Headline[] };
type Bench = { title: string; run(quick: boolean): Promise<Outcome> };

const benches: Record<string, Bench> = {
  wire: {
    title: "Wire: frame bytes and codec cost against JSON",
    run: async (quick) => {
      const r = runWire(quick);
      return { table: wireMarkdown(r), svg: wireChart(r), headlines: wireHeadlines(r) };
    },
  },
  latency: {
    title: "End-to-end latency and edge throughput",
    run: async (quick) => {
      const r = await runLatency(quick);
      return { table: latencyMarkdown(r), svg: latencyChart(r), headlines: latencyHeadlines(r) };
    },
  },
  regions: {
    title: "Multi-region latency",
    run: async (quick) => {
      const r = await runRegions(quick);
      return { table: regionsMarkdown(r), svg: regionsChart(r), headlines: regionsHeadlines(r) };
    },
  },
  outage: {
    title: "Store outage: sends queued at the edge while the primary is away",
    run: async (quick) => {
      const r = await runOutage(quick);
      return { table: outageMarkdown(r), headlines: outageHeadlines(r) };
    },
  },
  stall: {
    title: "Stalled reader: memory stays bounded",
    run: async (quick) => {
      const r = await runStall(quick);
      return { table: stallMarkdown(r), headlines: stallHeadlines(r) };
    },
  },
  drain: {
    title: "Drain: devices moved to another relay while sends continue",
    run: async (quick) => {
      const r = await runDrain(quick);
      return { table: drainMarkdown(r), headlines: drainHeadlines(r) };
    },
  },
  connections: {
    title: "Idle connections: memory per device against a bare Bun server",
    run: async (quick) => {
      const r = await runConnections(quick);
      return { table: connectionsMarkdown(r), svg: connectionsChart(r), headlines: connectionsHeadlines(r) };
    },
  },
  host: {
    title: "A relay host at scale: 100,000 idle devices over worker processes",
    run: async (quick) => {
      const r = await runHost(quick);
      return { table: hostMarkdown(r), headlines: hostHeadlines(r) };
    },
  },
  mosquitto: {
    title: "A broker as a peer: Mosquitto with persistent QoS 1 sessions",
    run: async (quick) => {
      const r = await runMosquitto(quick);
      return { table: mosquittoMarkdown(r), headlines: mosquittoHeadlines(r) };
    },
  },
  throughput: {
    title: "Push throughput: unicast and topic fan-out against a bare Bun server",
    run: async (quick) => {
      const r = await runThroughput(quick);
      return { table: throughputMarkdown(r), svg: throughputChart(r), headlines: throughputHeadlines(r) };
    },
  },
  fanout: {
    title: "Topic fan-out at 10,000 subscribers against a bare Bun server",
    run: async (quick) => {
      const r = await runFanout(quick);
      return { table: fanoutMarkdown(r), headlines: fanoutHeadlines(r) };
    },
  },
  fallback: {
    title: "The last mile: fallback delay, and socket delivery beside it",
    run: async (quick) => {
      const r = await runFallback(quick);
      return { table: fallbackMarkdown(r), headlines: fallbackHeadlines(r) };
    },
  },
  purge: {
    title: "Retention: purging settled rows while sends continue",
    run: async (quick) => {
      const r = await runPurge(quick);
      return { table: purgeMarkdown(r), headlines: purgeHeadlines(r) };
    },
  },
  storm: {
    title: "Reconnect storm: a relay killed, its devices resume on another",
    run: async (quick) => {
      const r = await runStorm(quick);
      return { table: stormMarkdown(r), headlines: stormHeadlines(r) };
    },
  },
};

const args = process.argv.slice(2);
const quick = args.includes("--quick");
// A run cut down for a profile (BENCH_THROUGHPUT_ACKS_ONLY) prints its figures but keeps none.
const keep = !quick && process.env.BENCH_THROUGHPUT_ACKS_ONLY !== "1";
const names = args.filter((a) => !a.startsWith("--"));
for (const name of names) if (!benches[name]) throw new Error(`unknown benchmark '${name}'; have: ${Object.keys(benches).join(", ")}`);
const selected = names.length > 0 ? names : Object.keys(benches);

const machine = describeMachine();
const docPath = join(import.meta.dir, "..", "docs", "benchmarks.md");
const chartDir = join(import.meta.dir, "..", "docs", "benchmarks");
const headlinePath = join(chartDir, "headlines.json");
const headlines = readHeadlines(headlinePath);
const { sections, written } = readSections(docPath);
for (const name of selected) {
  const bench = benches[name]!;
  process.stderr.write(`running ${name}${quick ? " (quick)" : ""}…\n`);
  const run = describeRun();
  const { table, svg, headlines: figures } = await bench.run(quick);
  headlines[name] = figures;
  process.stdout.write(`\n## ${bench.title}\n\n${table}\n`);
  // A quick run only checks that the benchmarks (and their charts) still work; nothing is kept.
  if (svg && keep) {
    mkdirSync(chartDir, { recursive: true });
    writeFileSync(join(chartDir, `${name}.svg`), svg);
  }
  const chart = svg ? `\n\n![${bench.title}](benchmarks/${name}.svg)` : "";
  sections.set(name, `## ${bench.title}\n\nCommand: \`npm run bench -- ${name}\` · ${machine} · ${run} · ${new Date().toISOString().slice(0, 10)}\n\n${table}${chart}\n`);
}

if (keep) {
  const ordered = Object.keys(benches).flatMap((name) => (sections.has(name) ? [sections.get(name)!] : []));
  const glance = headlineTable(headlines, Object.entries(benches).map(([name, b]) => ({ name, title: b.title })));
  const doc = `# Benchmarks\n\nEvery figure and its baseline come from the same run on the same machine (${machine}). Regenerate with \`npm run bench\` (all) or \`npm run bench -- <name>\` (one section); each section says when and at which commit it was measured.\n\n## At a glance\n\n${glance}\n\n${[...ordered, ...written].join("\n")}`;
  writeFileSync(docPath, doc);
  mkdirSync(chartDir, { recursive: true });
  writeFileSync(headlinePath, `${JSON.stringify(headlines, null, 2)}\n`);
  process.stderr.write("wrote docs/benchmarks.md\n");
}

/**
 * Sections already in docs/benchmarks.md: each benchmark's, keyed by name, so that one benchmark's
 * run keeps the others'; and those written by hand (no "Command:" line under the heading, such as
 * "Codec decision"), kept as they are after the benchmarks' sections.
 */
function readSections(path: string): { sections: Map<string, string>; written: string[] } {
  const sections = new Map<string, string>();
  const written: string[] = [];
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { sections, written };
  }
  for (const chunk of text.split(/\n(?=## )/).slice(1)) {
    if (chunk.startsWith("## At a glance\n")) continue;
    const name = /^## [^\n]*\n\nCommand: `npm run bench -- (\w+)`/.exec(chunk)?.[1];
    if (name && benches[name]) sections.set(name, `${chunk.trimEnd()}\n`);
    else if (!name) written.push(`${chunk.trimEnd()}\n`);
  }
  return { sections, written };
}

function readHeadlines(path: string): Record<string, Headline[]> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, Headline[]>;
  } catch {
    return {};
  }
}
