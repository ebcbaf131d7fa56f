import { expect, test } from "bun:test";
import { estimateRtt, type RankOptions, rankNodes, withHost } from "./ranking.ts";
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
