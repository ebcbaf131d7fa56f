import { expect, test } from "bun:test";
import { alternativeCandidates, drawAlternatives, estimateRtt, type RankOptions, rankNodes, withHost } from "./ranking.ts";
import type { NodeRecord } from "./store.ts";

const NOW = 1_000_000;
const node = (id: string, extra: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  region: "eu",
  wsUrl: `ws://${id}:7701`,
  tcpAddr: `${id}:7702`,
  ips: [],
  capacity: 100,
  connections: 0,
  draining: false,
  version: "1",
  weight: 100,
  startedAt: 0,
  updatedAt: NOW,
  ...extra,
});
const options = (extra: Partial<RankOptions> = {}): RankOptions => ({
  region: "eu",
  rttTable: { eu: { us: 90, ap: 250 }, us: { ap: 150 } },
  sameRegionMs: 5,
  unknownMs: 300,
  loadPenaltyMs: 100,
  staleMs: 15_000,
  now: NOW,
  limit: 10,
  random: () => 0.5,
  ...extra,
});
const ids = (nodes: { id: string }[]) => nodes.map((n) => n.id);

test("the RTT table is read in either direction; unknown pairs get the default", () => {
  const table = { eu: { us: 90 } };
  expect(estimateRtt(table, "us", "eu", 5, 300)).toBe(90);
  expect(estimateRtt(table, "eu", "eu", 5, 300)).toBe(5);
  expect(estimateRtt(table, "eu", "mars", 5, 300)).toBe(300);
});

test("a draining node is never listed, nor a stale one, nor one of weight 0", () => {
  const ranked = rankNodes(
    [node("draining", { draining: true }), node("stale", { updatedAt: NOW - 20_000 }), node("off", { weight: 0 }), node("ok")],
    options(),
  );
  expect(ids(ranked)).toEqual(["ok"]);
});

test("the nearer region comes first, from the client's region", () => {
  const nodes = [node("us-1", { region: "us" }), node("ap-1", { region: "ap" }), node("eu-1", { region: "eu" })];
  expect(ids(rankNodes(nodes, options({ region: "eu" })))).toEqual(["eu-1", "us-1", "ap-1"]);
  expect(ids(rankNodes(nodes, options({ region: "ap" })))).toEqual(["ap-1", "us-1", "eu-1"]);
  expect(rankNodes(nodes, options({ region: "us" }))[0]).toMatchObject({ id: "us-1", rttMs: 5 });
});

test("an overloaded node ranks below an idle one; a full one below every node with room", () => {
  const nodes = [
    node("busy", { connections: 90 }),
    node("idle", { connections: 1 }),
    node("full", { connections: 100 }),
    node("far-idle", { region: "us", connections: 0 }),
  ];
  // busy: 5 + 90 = 95 ms; far-idle: 90 ms; idle: 6 ms; full: last whatever its RTT.
  expect(ids(rankNodes(nodes, options()))).toEqual(["idle", "far-idle", "busy", "full"]);
});

test("a canary keeps its place in about its weight's share of answers", () => {
  const nodes = [node("canary", { weight: 10, connections: 0 }), node("stable", { connections: 50 })];
  expect(ids(rankNodes(nodes, options({ random: () => 0.05 })))).toEqual(["canary", "stable"]);
  expect(ids(rankNodes(nodes, options({ random: () => 0.5 })))).toEqual(["stable", "canary"]);
  let seed = 1;
  const lcg = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  let first = 0;
  for (let i = 0; i < 2000; i++) if (rankNodes(nodes, options({ random: lcg }))[0]!.id === "canary") first++;
  expect(first).toBeGreaterThan(100);
  expect(first).toBeLessThan(320);
});

test("limit caps the answer; addresses take a raw IP in place of the host", () => {
  const nodes = Array.from({ length: 5 }, (_, i) => node(`n${i}`));
  expect(rankNodes(nodes, options({ limit: 2 }))).toHaveLength(2);
  expect(withHost("ws://relay.example:7701", "10.1.2.3")).toBe("ws://10.1.2.3:7701");
  expect(withHost("relay.example:7702", "10.1.2.3")).toBe("10.1.2.3:7702");
  expect(withHost("wss://relay.example:443/ws", "2001:db8::1")).toBe("wss://[2001:db8::1]:443/ws");
});

const config = {
  nodeId: "self",
  region: "eu",
  rttTable: { eu: { us: 90, ap: 250 } },
  rttSameRegionMs: 5,
  rttUnknownMs: 300,
  nodeStaleMs: 15_000,
};

test("alternatives leave out the relay itself and every node that should not take devices: draining, stale, weight 0, full", () => {
  const nodes = [
    node("self"),
    node("draining", { draining: true }),
    node("stale", { updatedAt: NOW - 20_000 }),
    node("off", { weight: 0 }),
    node("full", { connections: 100 }),
    node("over", { connections: 120 }),
    node("ok", { connections: 99 }),
  ];
  expect(alternativeCandidates(nodes, config, NOW).map((c) => c.alternative)).toEqual([["ok", "ws://ok:7701", "ok:7702"]]);
});

test("alternatives come nearest region first, whatever the draw", () => {
  const nodes = [node("ap-1", { region: "ap" }), node("us-1", { region: "us" }), node("eu-1"), node("eu-2"), node("mars-1", { region: "mars" })];
  const candidates = alternativeCandidates(nodes, config, NOW);
  for (const u of [0, 0.3, 0.99]) {
    const drawn = drawAlternatives(candidates, 8, () => u).map((a) => a[0]);
    expect(drawn.slice(2)).toEqual(["us-1", "ap-1", "mars-1"]);
    expect(drawn.slice(0, 2).sort()).toEqual(["eu-1", "eu-2"]);
  }
  expect(drawAlternatives(candidates, 3).map((a) => a[0])).toHaveLength(3);
  expect(drawAlternatives([], 8)).toEqual([]);
});

/** How often each node comes first in `draws` draws, with a seeded generator. */
function firstPlaces(nodes: NodeRecord[], draws: number): Record<string, number> {
  const candidates = alternativeCandidates(nodes, config, NOW);
  let seed = 7;
  const lcg = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const counts: Record<string, number> = {};
  for (let i = 0; i < draws; i++) {
    const first = drawAlternatives(candidates, 8, lcg)[0]![0];
    counts[first] = (counts[first] ?? 0) + 1;
  }
  return counts;
}

test("each draw puts a node first in proportion to weight × free room", () => {
  // Equal: about half each. Binomial(4000, 0.5) has a standard deviation of 32.
  const equal = firstPlaces([node("a"), node("b")], 4000);
  expect(equal.a).toBeGreaterThan(1800);
  expect(equal.b).toBeGreaterThan(1800);
  // Weights 3:1: about 3000 and 1000 (standard deviation 27).
  const weighted = firstPlaces([node("heavy", { weight: 300 }), node("light", { weight: 100 })], 4000);
  expect(weighted.heavy).toBeGreaterThan(2850);
  expect(weighted.heavy).toBeLessThan(3150);
  // Equal weights, but one node has 80 connections of 100: free room 100 against 20, so 5:1.
  const room = firstPlaces([node("empty"), node("busy", { connections: 80 })], 6000);
  expect(room.empty).toBeGreaterThan(4800);
  expect(room.empty).toBeLessThan(5200);
});

test("the workers of one relay host (same address) are ranked as one host with their load summed", () => {
  const sibling = (id: string, connections: number) => node(id, { wsUrl: "ws://host-a:7701", tcpAddr: "host-a:7702", connections });
  const nodes = [sibling("a.w2", 90), sibling("a.w1", 90), node("b", { connections: 50 }), sibling("a.w3", 0), node("c", { connections: 70 })];
  const ranked = rankNodes(nodes, options());
  expect(ids(ranked)).toEqual(["b", "a.w1", "c"]);
  expect(ranked[1]).toMatchObject({ connections: 180, capacity: 300, wsUrl: "ws://host-a:7701" });
  // A draining worker is left out, its siblings still offered.
  expect(rankNodes([sibling("a.w1", 0), { ...sibling("a.w2", 0), draining: true }], options())[0]).toMatchObject({ id: "a.w1", capacity: 100 });
});

test("a worker's alternatives leave out its siblings and offer every other host once", () => {
  const sibling = (host: string, id: string) => node(id, { wsUrl: `ws://${host}:7701`, tcpAddr: `${host}:7702` });
  const nodes = [sibling("self-host", "self"), sibling("self-host", "self.sibling"), sibling("other", "o.w1"), sibling("other", "o.w2")];
  const candidates = alternativeCandidates(nodes, config, NOW);
  expect(candidates.map((c) => c.alternative)).toEqual([["o.w1", "ws://other:7701", "other:7702"]]);
  expect(candidates[0]!.share).toBe(100 * 200);
});
