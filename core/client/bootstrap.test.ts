import { expect, test } from "bun:test";
import { type Candidate, fetchNodeList, type NodeListAnswer, pickRelay } from "./bootstrap.ts";

const answer: NodeListAnswer = {
  nodes: [
    { id: "a", region: "eu", ws: "ws://a.example:1", tcp: "a.example:2", ips: ["10.0.0.1"], load: 0.1, rttMs: 5 },
    { id: "b", region: "eu", ws: "ws://b.example:1", tcp: "b.example:2", ips: ["10.0.0.2"], load: 0.2, rttMs: 5 },
    { id: "c", region: "us", ws: "ws://c.example:1", tcp: "c.example:2", ips: [], load: 0, rttMs: 90 },
    { id: "d", region: "ap", ws: "ws://d.example:1", tcp: "d.example:2", ips: [], load: 0, rttMs: 200 },
  ],
  fallbackIps: [
    { nodeId: "a", ip: "10.0.0.1", ws: "ws://10.0.0.1:1", tcp: "10.0.0.1:2" },
    { nodeId: "b", ip: "10.0.0.2", ws: "ws://10.0.0.2:1", tcp: "10.0.0.2:2" },
  ],
  heartbeat: { min: 5, default: 30, max: 600 },
};

/** A probe with a fixed answer per address: a number of ms, or no answer at all. */
const probeTable = (table: Record<string, number | "down">) => (c: Candidate) =>
  new Promise<number>((resolve, reject) => {
    const value = table[c.address];
    if (value === undefined) return reject(new Error(`probe of unexpected ${c.address}`));
    if (value === "down") return; // never answers: the timeout decides
    setTimeout(() => resolve(value), 1);
  });

test("probes the first few in parallel and keeps the fastest; remembers the raw IPs", async () => {
  let remembered: Candidate[] = [];
  const probed: string[] = [];
  const probe = probeTable({ "ws://a.example:1": 40, "ws://b.example:1": 12, "ws://c.example:1": "down" });
  const result = await pickRelay({
    transport: "ws",
    fetchNodes: async () => answer,
    fallback: [],
    probe: (c) => (probed.push(c.address), probe(c)),
    probeCount: 3,
    probeTimeoutMs: 50,
    remember: (list) => {
      remembered = list;
    },
  });
  expect(probed.sort()).toEqual(["ws://a.example:1", "ws://b.example:1", "ws://c.example:1"]);
  expect(result).toMatchObject({ source: "edge", chosen: { nodeId: "b" }, rttMs: 12, heartbeat: answer.heartbeat });
  expect(result.ordered.map((c) => c.nodeId)).toEqual(["b", "a", "d", "c"]);
  expect(remembered.map((c) => c.address)).toEqual([
    "ws://10.0.0.1:1",
    "ws://10.0.0.2:1",
    "ws://a.example:1",
    "ws://b.example:1",
    "ws://c.example:1",
    "ws://d.example:1",
  ]);
});

test("when the edge fails, the fallback IP list is probed instead", async () => {
  const fallback = [
    { nodeId: "a", address: "10.0.0.1:2" },
    { nodeId: "b", address: "10.0.0.2:2" },
  ];
  let remembered = false;
  const result = await pickRelay({
    transport: "tcp",
    fetchNodes: async () => {
      throw new TypeError("getaddrinfo ENOTFOUND edge.example");
    },
    fallback,
    probe: probeTable({ "10.0.0.1:2": "down", "10.0.0.2:2": 30 }),
    probeTimeoutMs: 30,
    remember: () => {
      remembered = true;
    },
  });
  expect(result).toMatchObject({ source: "fallback", chosen: { nodeId: "b" }, rttMs: 30, heartbeat: null });
  expect(result.ordered.map((c) => c.address)).toEqual(["10.0.0.2:2", "10.0.0.1:2"]);
  expect(remembered).toBe(false);
});

test("an empty node list falls back too; no answering probe leaves chosen null but keeps the order", async () => {
  const result = await pickRelay({
    transport: "ws",
    fetchNodes: async () => ({ ...answer, nodes: [], fallbackIps: [] }),
    fallback: [{ nodeId: "x", address: "ws://10.9.9.9:1" }],
    probe: probeTable({ "ws://10.9.9.9:1": "down" }),
    probeTimeoutMs: 20,
  });
  expect(result).toMatchObject({ source: "fallback", chosen: null, rttMs: null });
  expect(result.ordered).toEqual([{ nodeId: "x", address: "ws://10.9.9.9:1" }]);
});

test("fetchNodeList asks with the region hint and refuses a bad answer", async () => {
  const asked: string[] = [];
  const fake = async (url: string) => {
    asked.push(url);
    return { ok: true, status: 200, json: async () => answer };
  };
  expect((await fetchNodeList(fake, "https://edge.example", { region: "eu" })).nodes).toHaveLength(4);
  expect(asked).toEqual(["https://edge.example/v1/nodes?region=eu"]);
  const failing = async () => ({ ok: false, status: 503, json: async () => ({}) });
  await expect(fetchNodeList(failing, "https://edge.example")).rejects.toThrow("503");
});
