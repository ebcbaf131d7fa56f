// Idempotency keys: the key row is written in the same transaction as the message
// (message-writes.ts), so a key never exists without its message nor a message without its key. A
// concurrent repeat fails that transaction on the primary key; writeMessage reports it as a
// StoreConflict and the send path reads the winner's answer.
import { and, eq, lt } from "drizzle-orm";
import type { IdempotencyRecord } from "../core/store.ts";
import { idempotencyKeys } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function findIdempotencyKey(db: Db, appId: string, key: string): Promise<IdempotencyRecord | null> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.appId, appId), eq(idempotencyKeys.key, key)));
  if (!row) return null;
  return {
    requestHash: row.requestHash,
    messageId: row.messageId,
    answer: row.result === null ? null : (JSON.parse(row.result) as unknown),
    createdAt: row.createdAt,
  };
}


/** SQLite's and libSQL's words for a primary-key or unique violation (not any constraint: an unknown device fails NOT NULL). */
/** A unique violation on the messages table's id: the message was written already (a spool's forward made twice). */
export function isMessageIdTaken(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed: messages\.id/i.test(e.message)) return true;
  }
  return false;
}

export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed/i.test(e.message)) return true;
    const code = (e as { code?: unknown }).code;
    if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") return true;
  }
  return false;
}
