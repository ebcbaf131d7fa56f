// What the cluster tests share: a call to a region's edge with the demo app's key, and the flags
// that make a cluster's relays notice things within a second.
import type { Cluster } from "../ops/cluster.ts";

export const FAST_CLUSTER_FLAGS = ["--heartbeat", '{"min":1,"default":1,"max":600}', "--node-report-ms", "300", "--db-sync-interval-ms", "200"];

export async function clusterApi(cluster: Cluster, region: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${cluster.regions[region]!.edge}${path}`, {
    method,
    headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
