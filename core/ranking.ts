// Node ranking for devices: which relays a device should probe first. The estimate is the RTT
// from the device's region to the node's (a configured table), plus a load cost; full nodes go
// last, draining and silent ones are never offered, and canary nodes get their weight's share.
// Also the alternatives a relay's GOAWAY offers, drawn per device so that a drain spreads devices
// over the other nodes by weight and free room instead of sending them all to the best one.
import type { Config } from "./config.ts";
import type { Alternative } from "./protocol.ts";
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
  const ranked = hosts(nodes.filter((n) => isOffered(n, options.now, options.staleMs)))
    .map((n) => {
      const load = n.capacity > 0 ? n.connections / n.capacity : 1;
      const rttMs = estimateRtt(options.rttTable, options.region, n.region, options.sameRegionMs, options.unknownMs);
      const tier = load >= 1 ? 2 : n.weight < 100 && random() * 100 >= n.weight ? 1 : 0;
      return { node: { ...n, rttMs, load }, tier, score: rttMs + options.loadPenaltyMs * Math.min(load, 1) };
    });
  ranked.sort((a, b) => a.tier - b.tier || a.score - b.score || a.node.id.localeCompare(b.node.id));
  return ranked.slice(0, options.limit).map((r) => r.node);
}

/**
 * Sibling nodes (the workers of one multi-process relay host, `relay --workers`) share their
 * address: the kernel, not the device, picks the worker. Each host is offered once, as its
 * lowest-id sibling with the siblings' connections and capacity summed.
 */
export function hosts(nodes: NodeRecord[]): NodeRecord[] {
  const byAddress = new Map<string, NodeRecord>();
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const host = byAddress.get(n.wsUrl);
    if (!host) byAddress.set(n.wsUrl, { ...n });
    else {
      host.connections += n.connections;
      host.capacity += n.capacity;
    }
  }
  return [...byAddress.values()];
}

/** Whether a node may be offered to devices at all: it reported lately, is not draining, and its weight is above 0. */
function isOffered(n: NodeRecord, now: number, staleMs: number): boolean {
  return !n.draining && n.weight > 0 && now - n.updatedAt <= staleMs;
}

/** A node a relay may send its devices to, with what its place in each GOAWAY depends on. */
export type AlternativeCandidate = {
  alternative: Alternative;
  region: string;
  /** Estimated RTT from the sending relay's region: nearer groups come first. */
  rttMs: number;
  /** weight × free connections: within a group, the node's chance of coming first is its share of the group's total. */
  share: number;
};

/** The sending relay's settings: it is never its own alternative, and RTTs are estimated from its region. */
export type CandidateConfig = Pick<Config, "nodeId" | "region" | "rttTable" | "rttSameRegionMs" | "rttUnknownMs" | "nodeStaleMs">;

/**
 * The nodes a relay's devices may be sent to, nearest first: offered as in `rankNodes`, and with
 * room, each host once. A full node is left out here (where `rankNodes` puts it last): a device sent there would
 * only be sent on again.
 */
export function alternativeCandidates(nodes: NodeRecord[], config: CandidateConfig, now: number): AlternativeCandidate[] {
  // A sibling on the relay's own address is no alternative: a device sent there may come back to this worker.
  const ownAddress = nodes.find((n) => n.id === config.nodeId)?.wsUrl;
  return hosts(nodes.filter((n) => n.id !== config.nodeId && n.wsUrl !== ownAddress && isOffered(n, now, config.nodeStaleMs)))
    .filter((n) => n.connections < n.capacity)
    .map((n) => ({
      alternative: [n.id, n.wsUrl, n.tcpAddr] as Alternative,
      region: n.region,
      rttMs: estimateRtt(config.rttTable, config.region, n.region, config.rttSameRegionMs, config.rttUnknownMs),
      share: n.weight * (n.capacity - n.connections),
    }))
    .sort((a, b) => a.rttMs - b.rttMs);
}

/**
 * One device's alternatives, at most `limit`: groups of equal estimated RTT nearest first, and
 * within a group an order drawn at random in which each node comes first with probability
 * share / (the group's total share), second likewise among the rest, and so on (weighted
 * sampling without replacement: each node's key is u^(1/share) for a uniform u, highest first).
 * Devices take the first alternative they can reach, so a drain's devices split by share.
 */
export function drawAlternatives(candidates: AlternativeCandidate[], limit: number, random: () => number = Math.random): Alternative[] {
  // ln(u) / share orders as u^(1/share) does; 1 - random() keeps u in (0, 1].
  const keyed = candidates.map((c) => ({ c, key: Math.log(1 - random()) / c.share }));
  keyed.sort((a, b) => a.c.rttMs - b.c.rttMs || b.key - a.key);
  return keyed.slice(0, limit).map((k) => k.c.alternative);
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
