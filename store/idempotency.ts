// Idempotency keys: the key row is written in the same batch as the message, so a key never
// exists without its message nor a message without its key. A concurrent repeat fails that batch
// on the primary key and then reads the winner's answer.
import { and, eq, lt } from "drizzle-orm";
import { idempotencyKeys } from "./schema.ts";
import { type Statement, sqlNames } from "./statement.ts";
import type { Db } from "./libsql-store.ts";

export type IdempotencyRecord = { requestHash: string; messageId: string; result: unknown | null; createdAt: number };

export async function findIdempotencyKey(db: Db, appId: string, key: string): Promise<IdempotencyRecord | null> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.appId, appId), eq(idempotencyKeys.key, key)));
  if (!row) return null;
  return {
    requestHash: row.requestHash,
    messageId: row.messageId,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    createdAt: row.createdAt,
  };
}

const k = sqlNames(idempotencyKeys);
// Written by hand once: it joins every keyed send's transaction (core/store/inbox-writes.ts says why).
// A plain insert: a key taken already fails the transaction, which is the race's answer.
const INSERT_KEY = `INSERT INTO ${k.t} (${k.c.appId}, ${k.c.key}, ${k.c.requestHash}, ${k.c.messageId}, ${k.c.result}, ${k.c.createdAt}) VALUES (?, ?, ?, ?, ?, ?)`;

export function insertIdempotencyKey(
  input: { appId: string; key: string; requestHash: string; messageId: string; now: number },
  result: unknown,
): Statement {
  return { sql: INSERT_KEY, args: [input.appId, input.key, input.requestHash, input.messageId, JSON.stringify(result), input.now] };
}

export async function pruneIdempotencyKeys(db: Db, before: number): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before));
}

/** SQLite's and libSQL's words for a primary-key or unique violation. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(e.message)) return true;
    if ((e as { code?: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
  }
  return false;
}
