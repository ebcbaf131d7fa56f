// The audit log: appended, read newest first, never changed (there is no update or delete path).
import { and, desc, eq, lt } from "drizzle-orm";
import type { AuditEntry, NewAuditEntry } from "../core/store.ts";
import { auditLog } from "./schema.ts";
import type { Db } from "./statement.ts";

export async function appendAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    at: entry.at,
    actorKind: entry.actor.kind,
    actorKeyId: entry.actor.keyId ?? null,
    appId: entry.appId,
    action: entry.action,
    target: entry.target,
    details: JSON.stringify(entry.details),
    fromAddress: entry.from,
  });
}

export async function readAudit(db: Db, query: { appId?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(query.appId === undefined ? undefined : eq(auditLog.appId, query.appId), query.before === undefined ? undefined : lt(auditLog.id, query.before)))
    .orderBy(desc(auditLog.id))
    .limit(query.limit);
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: { kind: r.actorKind, ...(r.actorKeyId ? { keyId: r.actorKeyId } : {}), ...(r.appId && r.actorKind === "app_key" ? { appId: r.appId } : {}) },
    appId: r.appId,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
    from: r.fromAddress,
  }));
}
