// A local multi-region topology: sqld primary in the first region and a replica in each other,
// one Redis, and per region N relay processes and one edge process, each with an embedded
// replica of its region's sqld. Tests and benchmarks start it; `pushmesh cluster` prints it.
import type { Subprocess } from "bun";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Log } from "../core/log.ts";
import { openStore } from "../store/open.ts";
import { devOperatorKey, ensureDemoApp } from "./mesh.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";
import { type Sqld, startSqld } from "./sqld.ts";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge.ts";
import { startLatencyProxy } from "./latency-proxy.ts";
import { freePort } from "./free-port.ts";

const CLI = join(import.meta.dir, "cli.ts");

export type ClusterOptions = {
  regions: string[];
  /** Relay processes per region: one number for all, or per region name. */
  relaysPerRegion: number | Record<string, number>;
  /** Kept after stop when given; a temporary directory otherwise. */
  dir?: string;
  /** Extra flags for every relay and edge process, e.g. ["--heartbeat", "{…}"]. */
  extraFlags?: string[];
  /** Engine for edges: "redis" over TCP, or "rest" through the Upstash-protocol bridge. */
  edgeEngine?: "redis" | "rest";
  /**
   * One-way latency between regions in ms, simulated by proxies on every cross-region link (the
   * first region hosts the primary, Redis and the REST bridge): {"b":{"a":40}}, either direction.
   */
  wan?: Record<string, Record<string, number>>;
  /**
   * A store per region (the design's write homes): a sqld primary per region for its devices, one
   * global database (its primary in the first region, a replica in each other), a Redis per region,
   * and edges that hand each send to the edge of its devices' home. Off: one primary for all.
   */
  homes?: boolean;
  /**
   * Edges outside the home region forward writes to the home region's edge (`--forward-writes-to`);
   * default true. Off, every edge writes to the primary itself, as writers in every region do.
   */
  forwardWrites?: boolean;
  log?: Log;
};

/** Writes go to a primary over one WebSocket (hrana), a few tenths of a millisecond less per write than HTTP. */
const hrana = (url: string) => url.replace(/^http/, "ws");

export function oneWayMs(wan: ClusterOptions["wan"], from: string, to: string): number {
  if (!wan || from === to) return 0;
  return wan[from]?.[to] ?? wan[to]?.[from] ?? 0;
}

export type ClusterProcess = { name: string; pid: number; ready: Record<string, unknown>; proc: Subprocess };
export type ClusterRelay = { nodeId: string; region: string; ws: string; tcp: string; pid: number };
export type ClusterRegion = { sqld: string; edge: string; relays: ClusterRelay[] };

export type Cluster = {
  dir: string;
  redis: RedisServer;
  /** Upstash-protocol REST in front of Redis, for edges with --engine rest. */
  rest: UpstashBridge;
  /** The first region's primary: the one store, or with `homes` that region's home store. */
  primary: Sqld;
  /** Per region its sqld: a replica of the one primary, or with `homes` the region's own primary. */
  sqld: Record<string, Sqld>;
  /** With `homes`: the global database's primary (in the first region); null otherwise. */
  global: Sqld | null;
  /** Per region its Redis: the one Redis in every region, or with `homes` each region's own. */
  redisOf: Record<string, RedisServer>;
  regions: Record<string, ClusterRegion>;
  appId: string;
  apiKey: string;
  /** What every edge's fleet routes take: the same operator key for the whole cluster, derived from the store's own secret. */
  operatorKey: string;
  /** One line of JSON describing the topology. */
  describe(): Record<string, unknown>;
  /** Kills a relay process (SIGKILL) as a crash would. */
  killRelay(nodeId: string): Promise<void>;
  /** Starts a relay process again with the same identity (new ports). */
  restartRelay(nodeId: string): Promise<ClusterRelay>;
  /** Kills a region's edge process (SIGKILL); its spool file stays. */
  killEdge(region: string): Promise<void>;
  /** Starts a region's edge again, on the same port and spool. */
  restartEdge(region: string): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

async function spawnReady(name: string, args: string[], logDir: string): Promise<ClusterProcess> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: Bun.file(join(logDir, `${name}.log`)),
    env: process.env,
  });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const timeout = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  try {
    while (!buffer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${name} exited before it was ready; see ${join(logDir, `${name}.log`)}`);
      buffer += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timeout);
    reader.releaseLock();
  }
  const ready = JSON.parse(buffer.slice(0, buffer.indexOf("\n"))) as Record<string, unknown>;
  return { name, pid: proc.pid, ready, proc };
}

async function stopProcess(p: ClusterProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill(signal);
  const exited = await Promise.race([p.proc.exited.then(() => true), Bun.sleep(8000).then(() => false)]);
  if (!exited) {
    p.proc.kill("SIGKILL");
    await p.proc.exited;
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.regions.length === 0) throw new Error("a cluster needs at least one region");
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "pushmesh-cluster-"));
  const logDir = join(dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const processes = new Map<string, ClusterProcess>();
  const relayArgs = new Map<string, string[]>();
  const edgeArgs = new Map<string, string[]>();
  const stopAll: (() => Promise<void>)[] = [];
  try {
    const [home, ...others] = options.regions;
    const homes = options.homes ?? false;
    // A link from `from` to a service in region `to`, through a delaying proxy when the regions
    // are apart; the URL keeps its scheme and path.
    const linkBetween = (from: string, to: string, url: string): string => {
      const delay = oneWayMs(options.wan, from, to);
      if (delay === 0) return url;
      const parsed = new URL(url);
      const proxy = startLatencyProxy(parsed.host, delay);
      stopAll.push(async () => proxy.stop());
      parsed.host = proxy.address;
      return parsed.toString().replace(/\/$/, "");
    };
    const link = (region: string, url: string): string => linkBetween(region, home!, url);
    const redisOf: Record<string, RedisServer> = {};
    const restOf: Record<string, UpstashBridge> = {};
    for (const region of homes ? options.regions : [home!]) {
      const r = await startRedisServer(join(dir, `redis-${region}`));
      stopAll.push(() => r.stop());
      redisOf[region] = r;
      const bridge = startUpstashBridge({ redisUrl: r.url, token: crypto.randomUUID() });
      stopAll.push(() => bridge.stop());
      restOf[region] = bridge;
    }
    const redis = redisOf[home!]!;
    const rest = restOf[home!]!;
    const engineOf = (region: string) => (homes ? { redis: redisOf[region]!.url, rest: restOf[region]! } : { redis: link(region, redis.url), rest: { url: link(region, rest.url), token: rest.token } });
    const primary = await startSqld({ dir: join(dir, `sqld-${home}`) });
    stopAll.push(() => primary.stop());
    const sqld: Record<string, Sqld> = { [home!]: primary };
    for (const region of others) {
      sqld[region] = await startSqld(homes ? { dir: join(dir, `sqld-${region}`) } : { dir: join(dir, `sqld-${region}`), primaryGrpcUrl: link(region, primary.grpcUrl!) });
      stopAll.push(() => sqld[region]!.stop());
    }
    // With homes: the global database, its primary in the first region. Every process keeps an
    // embedded replica of it, synced over the link to its region: a directory miss catches up in one trip.
    const global: Sqld | null = homes ? await startSqld({ dir: join(dir, "sqld-global") }) : null;
    if (global) stopAll.push(() => global.stop());
    // Migrations, once per primary; the demo app where apps live.
    for (const db of homes ? [global!, ...Object.values(sqld)] : [primary]) (await openStore({ db: db.url, dbSync: "normal" })).close();
    const store = await openStore({ db: (global ?? primary).url, dbSync: "normal", migrateOnStart: false });
    const { appId, apiKey } = await ensureDemoApp(store);
    const operatorKey = await devOperatorKey(store);
    store.close();

    // With homes, edges are told each other's addresses at start: their ports are chosen first.
    const edgePorts = new Map<string, number>();
    if (homes) for (const region of options.regions) edgePorts.set(region, await freePort());
    const homeEdges = (region: string) =>
      Object.fromEntries(options.regions.filter((r) => r !== region).map((r) => [r, linkBetween(region, r, `http://127.0.0.1:${edgePorts.get(r)}`)]));
    const common = (region: string, name: string) => [
      "--region", region,
      "--db", `file:${join(dir, "replicas", `${name}.db`)}`,
      "--db-sync-url", sqld[region]!.url,
      "--db-primary-url", homes ? hrana(sqld[region]!.url) : link(region, primary.url),
      ...(homes
        ? ["--global-db", `file:${join(dir, "replicas", `${name}.global.db`)}`, "--global-db-sync-url", link(region, global!.url), "--global-db-primary-url", hrana(link(region, global!.url))]
        : []),
      "--migrate-on-start", "false",
      "--redis-url", engineOf(region).redis,
      ...(options.extraFlags ?? []),
    ];
    mkdirSync(join(dir, "replicas"), { recursive: true });
    const starts: Promise<void>[] = [];
    const startEdge = (region: string, extra: string[] = []) => {
      const edgeName = `${region}-edge`;
      const engine = options.edgeEngine ?? "rest";
      const args = ["edge", "--node-id", edgeName, "--engine", engine, "--operator-keys", operatorKey, ...common(region, edgeName), ...extra];
      if (engine === "rest") args.push("--rest-url", engineOf(region).rest.url, "--rest-token", engineOf(region).rest.token);
      if (homes) args.push("--home-edges", JSON.stringify(homeEdges(region)));
      return spawnReady(edgeName, [...args, "--edge-port", String(edgePorts.get(region) ?? 0)], logDir).then((p) => {
        processes.set(edgeName, p);
        // A restarted edge takes the same port: callers keep their address.
        edgeArgs.set(region, [...args, "--edge-port", new URL(p.ready.edge as string).port]);
        return p.ready.edge as string;
      });
    };
    // The home edge first: the others need its address to forward writes to.
    const homeEdge = await startEdge(home!);
    for (const region of options.regions) {
      const count = typeof options.relaysPerRegion === "number" ? options.relaysPerRegion : (options.relaysPerRegion[region] ?? 1);
      for (let i = 1; i <= count; i++) {
        const nodeId = `${region}-relay-${i}`;
        // One process per relay: the cluster's relays stand for machines, each a node it can kill alone.
        const args = ["relay", "--node-id", nodeId, "--workers", "1", "--engine", "redis", "--ws-port", "0", "--tcp-port", "0", ...common(region, nodeId)];
        relayArgs.set(nodeId, args);
        starts.push(spawnReady(nodeId, args, logDir).then((p) => void processes.set(nodeId, p)));
      }
      if (region === home) continue;
      const forward = options.forwardWrites === false || homes ? [] : ["--forward-writes-to", link(region, homeEdge)];
      starts.push(startEdge(region, forward).then(() => undefined));
    }
    await Promise.all(starts);

    const relayOf = (p: ClusterProcess): ClusterRelay => ({
      nodeId: p.ready.nodeId as string,
      region: p.ready.region as string,
      ws: p.ready.ws as string,
      tcp: p.ready.tcp as string,
      pid: p.pid,
    });
    const regions = (): Record<string, ClusterRegion> =>
      Object.fromEntries(
        options.regions.map((region) => [
          region,
          {
            sqld: sqld[region]!.url,
            edge: processes.get(`${region}-edge`)!.ready.edge as string,
            relays: [...processes.values()].filter((p) => p.ready.role === "relay" && p.ready.region === region && p.proc.exitCode === null && p.proc.signalCode === null).map(relayOf),
          },
        ]),
      );
    let stopped: Promise<void> | null = null;
    const cluster: Cluster = {
      dir,
      redis,
      rest,
      primary,
      sqld,
      global,
      redisOf,
      get regions() {
        return regions();
      },
      appId,
      apiKey,
      operatorKey,
      describe: () => ({ ready: true, dir, redis: redis.url, rest: rest.url, primary: primary.url, ...(global ? { global: global.url, homes: Object.fromEntries(Object.entries(sqld).map(([r, s]) => [r, s.url])) } : {}), appId, apiKey, operatorKey, regions: regions() }),
      async killRelay(nodeId) {
        const p = processes.get(nodeId);
        if (!p) throw new Error(`no relay ${nodeId}`);
        p.proc.kill("SIGKILL");
        await p.proc.exited;
      },
      async restartRelay(nodeId) {
        const args = relayArgs.get(nodeId);
        if (!args) throw new Error(`no relay ${nodeId}`);
        const p = await spawnReady(nodeId, args, logDir);
        processes.set(nodeId, p);
        return relayOf(p);
      },
      async killEdge(region) {
        const p = processes.get(`${region}-edge`);
        if (!p) throw new Error(`no edge in ${region}`);
        p.proc.kill("SIGKILL");
        await p.proc.exited;
      },
      async restartEdge(region) {
        const args = edgeArgs.get(region);
        if (!args) throw new Error(`no edge in ${region}`);
        const p = await spawnReady(`${region}-edge`, args, logDir);
        processes.set(`${region}-edge`, p);
        return p.ready.edge as string;
      },
      stop() {
        stopped ??= (async () => {
          await Promise.all([...processes.values()].map((p) => stopProcess(p)));
          for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
          if (!options.dir) rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
      [Symbol.asyncDispose]: () => cluster.stop(),
    };
    return cluster;
  } catch (error) {
    await Promise.all([...processes.values()].map((p) => stopProcess(p, "SIGKILL")));
    for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
