// Device bootstrap: which relay to connect to. Asks the edge for ranked nodes, probes the first few
// in parallel and keeps the fastest; when the edge or DNS fails, uses the raw-IP list the app was
// built with or last received. Runtime-free: the caller passes its fetch and its probe.

export type NodeListAnswer = {
  nodes: { id: string; region: string; ws: string; tcp: string; ips: string[]; load: number; rttMs: number }[];
  fallbackIps: { nodeId: string; ip: string; ws: string; tcp: string }[];
  heartbeat: { min: number; default: number; max: number };
};

/** One address to try: a ws:// URL or a host:port for raw TCP. */
export type Candidate = { nodeId: string; address: string };

export type PickOptions = {
  transport: "ws" | "tcp";
  /** Reads GET /v1/nodes (see fetchNodeList); may reject. */
  fetchNodes: () => Promise<NodeListAnswer>;
  /** The built-in or last received list, for when fetchNodes fails or lists nothing. */
  fallback: Candidate[];
  /** Resolves with a round trip in ms (a connect, or a connect + HELLO), rejects when unreachable. */
  probe: (candidate: Candidate) => Promise<number>;
  /** How many of the best candidates to probe at once. */
  probeCount?: number;
  probeTimeoutMs?: number;
  /** Keeps a fresh fallback list (raw IPs first) for the next time the edge cannot be reached. */
  remember?: (fallback: Candidate[]) => void | Promise<void>;
};

export type PickResult = {
  source: "edge" | "fallback";
  /** The fastest candidate that answered its probe; null when none did. */
  chosen: Candidate | null;
  rttMs: number | null;
  /** Every candidate, best first: the answering probes by speed, the unprobed by rank, the silent last. */
  ordered: Candidate[];
  heartbeat: NodeListAnswer["heartbeat"] | null;
};

export async function fetchNodeList(
  fetchFn: (url: string, init?: { signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>,
  edgeUrl: string,
  options: { region?: string; timeoutMs?: number } = {},
): Promise<NodeListAnswer> {
  const url = new URL("/v1/nodes", edgeUrl);
  if (options.region) url.searchParams.set("region", options.region);
  const res = await fetchFn(url.toString(), { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  if (!res.ok) throw new Error(`GET /v1/nodes answered ${res.status}`);
  const body = (await res.json()) as Partial<NodeListAnswer>;
  if (!Array.isArray(body.nodes)) throw new Error("GET /v1/nodes answered without a node list");
  return { nodes: body.nodes, fallbackIps: body.fallbackIps ?? [], heartbeat: body.heartbeat ?? { min: 5, default: 30, max: 600 } };
}

export async function pickRelay(options: PickOptions): Promise<PickResult> {
  let candidates: Candidate[] = [];
  let source: PickResult["source"] = "edge";
  let heartbeat: PickResult["heartbeat"] = null;
  try {
    const answer = await options.fetchNodes();
    candidates = answer.nodes.map((n) => ({ nodeId: n.id, address: options.transport === "ws" ? n.ws : n.tcp }));
    heartbeat = answer.heartbeat;
    if (candidates.length > 0) {
      const byIp = answer.fallbackIps.map((a) => ({ nodeId: a.nodeId, address: options.transport === "ws" ? a.ws : a.tcp }));
      await options.remember?.(dedupe([...byIp, ...candidates]));
    }
  } catch {
    // The edge or DNS is unreachable: the fallback list is what it is for.
  }
  if (candidates.length === 0) {
    source = "fallback";
    candidates = dedupe(options.fallback);
  }

  const probed = candidates.slice(0, options.probeCount ?? 3);
  const timeoutMs = options.probeTimeoutMs ?? 2000;
  const results = await Promise.all(probed.map((c) => probeWithin(options.probe, c, timeoutMs)));
  const answered = probed
    .map((candidate, i) => ({ candidate, rtt: results[i] ?? null }))
    .filter((r): r is { candidate: Candidate; rtt: number } => r.rtt !== null)
    .sort((a, b) => a.rtt - b.rtt);
  const silent = probed.filter((_, i) => results[i] === null);
  const ordered = [...answered.map((r) => r.candidate), ...candidates.slice(probed.length), ...silent];
  const best = answered[0];
  return { source, chosen: best?.candidate ?? null, rttMs: best?.rtt ?? null, ordered, heartbeat };
}

async function probeWithin(probe: PickOptions["probe"], candidate: Candidate, timeoutMs: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([probe(candidate).catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function dedupe(list: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.address) && seen.add(c.address));
}
