// Node ranking for devices: which relays a device should probe first. The estimate is the RTT
// from the device's region to the node's (a configured table), plus a load cost; full nodes go
// last, draining and silent ones are never offered, and canary nodes get their weight's share.
import type { NodeRecord } from "./store.ts";

/** Milliseconds of estimated round trip between regions, looked up in either direction. */
export type RttTable = Record<string, Record<string, number>>;

export type RankOptions = {
  /** The device's region: its hint, or the edge's own. */
  region: string;
  rttTable: RttTable;
  sameRegionMs: number;
  unknownMs: number;
  /** What a full node costs, in ms of RTT. */
  loadPenaltyMs: number;
  /** Nodes silent for longer are left out. */
  staleMs: number;
  now: number;
  limit: number;
  /** Uniform in [0, 1); decides which answers a canary keeps its rank in. */
  random?: () => number;
};

export type RankedNode = NodeRecord & { rttMs: number; load: number };

export function estimateRtt(table: RttTable, from: string, to: string, sameRegionMs: number, unknownMs: number): number {
  if (from === to) return sameRegionMs;
  return table[from]?.[to] ?? table[to]?.[from] ?? unknownMs;
}

/**
 * Best first. Sort tiers: nodes with room, then canaries demoted in this answer, then full nodes;
 * within a tier by RTT plus `loadPenaltyMs × load`. A node of weight w < 100 keeps its place in
 * about w% of answers; weight 0 takes no new devices.
 */
export function rankNodes(nodes: NodeRecord[], options: RankOptions): RankedNode[] {
  const random = options.random ?? Math.random;
  const ranked = nodes
    .filter((n) => !n.draining && n.weight > 0 && options.now - n.updatedAt <= options.staleMs)
    .map((n) => {
      const load = n.capacity > 0 ? n.connections / n.capacity : 1;
      const rttMs = estimateRtt(options.rttTable, options.region, n.region, options.sameRegionMs, options.unknownMs);
      const tier = load >= 1 ? 2 : n.weight < 100 && random() * 100 >= n.weight ? 1 : 0;
      return { node: { ...n, rttMs, load }, tier, score: rttMs + options.loadPenaltyMs * Math.min(load, 1) };
    });
  ranked.sort((a, b) => a.tier - b.tier || a.score - b.score || a.node.id.localeCompare(b.node.id));
  return ranked.slice(0, options.limit).map((r) => r.node);
}

/** "ws://host:7701" with the host swapped for `ip` (IPv6 in brackets). */
export function withHost(address: string, ip: string): string {
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const scheme = /^[a-z]+:\/\//i.exec(address)?.[0] ?? "";
  const rest = address.slice(scheme.length);
  const port = /:(\d+)(\/.*)?$/.exec(rest);
  return `${scheme}${host}${port ? `:${port[1]}${port[2] ?? ""}` : ""}`;
}

/** The raw IPs a node announces: the configured ones, else its public host when that is an IP literal. */
export function announcedIps(host: string, publicIps: string[]): string[] {
  if (publicIps.length > 0) return publicIps;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":") ? [host] : [];
}
