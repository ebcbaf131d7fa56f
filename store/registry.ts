// The relay registry: where each node can be reached, its load, and the drain flag operators set.
import { asc, eq, gte, lt, sql } from "drizzle-orm";
import type { NodeRecord, RelaySample } from "../core/store.ts";
import { nodes, relaySamples } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function upsertNode(db: Db, node: NodeRecord): Promise<void> {
  const row = { ...node, ips: JSON.stringify(node.ips) };
  // A restarting node keeps an operator's drain flag (only `node undrain` clears it), not the one
  // its own graceful stop set.
  const { id: _id, draining: _draining, ...changes } = row;
  const shutdownOver = sql`${nodes.drainedBy} = 'shutdown'`;
  await db
    .insert(nodes)
    .values(row)
    .onConflictDoUpdate({
      target: nodes.id,
      set: {
        ...changes,
        draining: sql`CASE WHEN ${shutdownOver} THEN 0 ELSE ${nodes.draining} END`,
        drainedBy: sql`CASE WHEN ${shutdownOver} THEN NULL ELSE ${nodes.drainedBy} END`,
      },
    });
}

export async function reportNodeLoad(db: Db, id: string, connections: number, now: number): Promise<{ draining: boolean } | null> {
  const [row] = await db.update(nodes).set({ connections, updatedAt: now }).where(eq(nodes.id, id)).returning({ draining: nodes.draining });
  return row ?? null;
}

export async function setNodeDraining(db: Db, id: string, draining: boolean, by: "operator" | "shutdown"): Promise<boolean> {
  const rows = await db
    .update(nodes)
    .set({ draining, drainedBy: draining ? by : null })
    .where(eq(nodes.id, id))
    .returning({ id: nodes.id });
  return rows.length > 0;
}

export async function listNodes(db: Db): Promise<NodeRecord[]> {
  const rows = await db.select().from(nodes);
  return rows.map(({ drainedBy: _by, ...r }) => ({ ...r, ips: JSON.parse(r.ips) as string[] }));
}

export async function recordRelaySample(db: Db, sample: RelaySample, pruneBefore: number): Promise<void> {
  const { nodeId: _nodeId, at: _at, ...figures } = sample;
  await db.insert(relaySamples).values(sample).onConflictDoUpdate({ target: [relaySamples.nodeId, relaySamples.at], set: figures });
  await db.delete(relaySamples).where(lt(relaySamples.at, pruneBefore));
}

export async function listRelaySamples(db: Db, since: number): Promise<RelaySample[]> {
  return db.select().from(relaySamples).where(gte(relaySamples.at, since)).orderBy(asc(relaySamples.at), asc(relaySamples.nodeId));
}
