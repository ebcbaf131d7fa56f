// The edge spool (core/spool.ts) as a local libSQL file. Every append is its own transaction,
// synced to disk (synchronous = FULL) before the edge answers 202, so an edge killed with -9 keeps
// every send it took. The counts the send path checks on every send are kept in memory, read once
// at open from the file.
import { createClient } from "@libsql/client";
import { and, asc, eq, inArray, isNotNull, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { SendRequest } from "../core/send/request.ts";
import { type Spool, type SpoolAppend, type SpooledSend, SpoolFull, type SpoolRecord } from "../core/spool.ts";
import { spooledSends, spoolRefusals } from "./schema.ts";

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

export type SpoolBounds = { maxEntries: number; maxBytes: number };

export async function openSpoolFile(path: string, bounds: SpoolBounds): Promise<SpoolFile> {
  mkdirSync(dirname(path), { recursive: true });
  const client = createClient({ url: `file:${path}` });
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute("PRAGMA synchronous = FULL");
  const db = drizzle(client, { casing: "snake_case" });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  const [totals] = await db
    .select({ entries: sql<number>`count(*)`, bytes: sql<number>`coalesce(sum(${spooledSends.bytes}), 0)`, oldest: sql<number | null>`min(${spooledSends.acceptedAt})` })
    .from(spooledSends);
  const ways = await db.select({ forwardTo: spooledSends.forwardTo, n: sql<number>`count(*)` }).from(spooledSends).groupBy(spooledSends.forwardTo);
  const spool = new SpoolFile(client, db, bounds, { entries: totals?.entries ?? 0, bytes: totals?.bytes ?? 0, oldestAcceptedAt: totals?.oldest ?? null });
  for (const way of ways) spool.ways.set(way.forwardTo ?? "", way.n);
  return spool;
}

type Db = ReturnType<typeof drizzle>;

export class SpoolFile implements Spool {
  constructor(
    private readonly client: ReturnType<typeof createClient>,
    private readonly db: Db,
    private readonly bounds: SpoolBounds,
    private totals: { entries: number; bytes: number; oldestAcceptedAt: number | null },
  ) {}

  /** Queued sends per way (`forwardTo`, "" for this edge's store). */
  readonly ways = new Map<string, number>();

  private count(forwardTo: string | null | undefined, by: number): void {
    const way = forwardTo ?? "";
    const n = (this.ways.get(way) ?? 0) + by;
    if (n > 0) this.ways.set(way, n);
    else this.ways.delete(way);
  }

  waiting(forwardTo?: string): number {
    return this.ways.get(forwardTo ?? "") ?? 0;
  }

  async append(entry: SpoolAppend): Promise<void> {
    const request = JSON.stringify(entry.request);
    const bytes = request.length;
    if (this.totals.entries + 1 > this.bounds.maxEntries) throw new SpoolFull("entries", this.bounds.maxEntries);
    if (this.totals.bytes + bytes > this.bounds.maxBytes) throw new SpoolFull("bytes", this.bounds.maxBytes);
    // Counted before the write's await, so concurrent appends cannot pass the bound together.
    this.totals.entries++;
    this.totals.bytes += bytes;
    this.count(entry.forwardTo, 1);
    try {
      await this.db.insert(spooledSends).values({
        appId: entry.appId,
        messageId: entry.messageId,
        acceptedAt: entry.acceptedAt,
        request,
        bytes,
        idempotencyKey: entry.idempotency?.key ?? null,
        requestHash: entry.idempotency?.requestHash ?? null,
        forwardTo: entry.forwardTo ?? null,
      });
    } catch (error) {
      this.totals.entries--;
      this.totals.bytes -= bytes;
      this.count(entry.forwardTo, -1);
      throw error;
    }
    this.totals.oldestAcceptedAt ??= entry.acceptedAt;
  }

  async oldest(limit: number, skip: ReadonlySet<string> = new Set()): Promise<SpooledSend[]> {
    const edges = [...skip].filter((w) => w !== "");
    const conditions = [
      ...(skip.has("") ? [isNotNull(spooledSends.forwardTo)] : []),
      ...(edges.length > 0 ? [or(isNull(spooledSends.forwardTo), notInArray(spooledSends.forwardTo, edges))] : []),
    ];
    const rows = await this.db.select().from(spooledSends).where(and(...conditions)).orderBy(asc(spooledSends.seq)).limit(limit);
    return rows.map((r) => ({
      seq: r.seq,
      appId: r.appId,
      messageId: r.messageId,
      acceptedAt: r.acceptedAt,
      request: JSON.parse(r.request) as SendRequest,
      attempts: r.attempts,
      forwardTo: r.forwardTo,
    }));
  }

  async forwarded(seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    const gone = await this.db.delete(spooledSends).where(inArray(spooledSends.seq, seqs)).returning({ bytes: spooledSends.bytes, forwardTo: spooledSends.forwardTo });
    this.leave(gone);
    await this.refreshOldest();
  }

  async redirect(seq: number, forwardTo: string | null): Promise<void> {
    const [row] = await this.db.select({ forwardTo: spooledSends.forwardTo }).from(spooledSends).where(eq(spooledSends.seq, seq));
    if (!row || row.forwardTo === forwardTo) return;
    await this.db.update(spooledSends).set({ forwardTo }).where(eq(spooledSends.seq, seq));
    this.count(row.forwardTo, -1);
    this.count(forwardTo, 1);
  }

  async refused(seq: number, error: { code: string; message: string }, at: number): Promise<void> {
    const [row] = await this.db.select().from(spooledSends).where(eq(spooledSends.seq, seq));
    if (!row) return;
    await this.db.batch([
      this.db
        .insert(spoolRefusals)
        .values({ messageId: row.messageId, appId: row.appId, acceptedAt: row.acceptedAt, refusedAt: at, code: error.code, message: error.message })
        .onConflictDoNothing(),
      this.db.delete(spooledSends).where(eq(spooledSends.seq, seq)),
    ]);
    this.leave([row]);
    await this.refreshOldest();
  }

  async failed(seq: number, reason: string): Promise<number> {
    const [row] = await this.db
      .update(spooledSends)
      .set({ attempts: sql`${spooledSends.attempts} + 1`, lastError: reason.slice(0, 1000) })
      .where(eq(spooledSends.seq, seq))
      .returning({ attempts: spooledSends.attempts });
    return row?.attempts ?? 0;
  }

  async byIdempotencyKey(appId: string, key: string): Promise<{ messageId: string; acceptedAt: number; requestHash: string } | null> {
    const [row] = await this.db
      .select({ messageId: spooledSends.messageId, acceptedAt: spooledSends.acceptedAt, requestHash: spooledSends.requestHash })
      .from(spooledSends)
      .where(and(eq(spooledSends.appId, appId), eq(spooledSends.idempotencyKey, key)))
      .limit(1);
    return row ? { messageId: row.messageId, acceptedAt: row.acceptedAt, requestHash: row.requestHash ?? "" } : null;
  }

  async record(appId: string, messageId: string): Promise<SpoolRecord | null> {
    const [queued] = await this.db
      .select()
      .from(spooledSends)
      .where(and(eq(spooledSends.appId, appId), eq(spooledSends.messageId, messageId)));
    if (queued) return { state: "queued", messageId, acceptedAt: queued.acceptedAt, attempts: queued.attempts, lastError: queued.lastError };
    const [refused] = await this.db
      .select()
      .from(spoolRefusals)
      .where(and(eq(spoolRefusals.appId, appId), eq(spoolRefusals.messageId, messageId)));
    if (!refused) return null;
    return { state: "refused", messageId, acceptedAt: refused.acceptedAt, refusedAt: refused.refusedAt, error: { code: refused.code, message: refused.message } };
  }

  size(): { entries: number; bytes: number; oldestAcceptedAt: number | null } {
    return { ...this.totals };
  }

  async dropRefusalsBefore(at: number): Promise<number> {
    const gone = await this.db.delete(spoolRefusals).where(lt(spoolRefusals.refusedAt, at)).returning({ id: spoolRefusals.messageId });
    return gone.length;
  }

  close(): void {
    this.client.close();
  }

  private leave(rows: { bytes: number; forwardTo: string | null }[]): void {
    this.totals.entries -= rows.length;
    for (const r of rows) {
      this.totals.bytes -= r.bytes;
      this.count(r.forwardTo, -1);
    }
  }

  private async refreshOldest(): Promise<void> {
    if (this.totals.entries === 0) {
      this.totals.oldestAcceptedAt = null;
      return;
    }
    const [row] = await this.db.select({ at: spooledSends.acceptedAt }).from(spooledSends).orderBy(asc(spooledSends.seq)).limit(1);
    this.totals.oldestAcceptedAt = row?.at ?? null;
  }
}
