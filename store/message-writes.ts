// The durable write of many sends and releases as one transaction, in a fixed number of statements
// whatever the number of messages: the rows travel as JSON arrays that json_each unpacks. The
// group commit (group-commit.ts) runs one such transaction per group, so a group pays one commit
// (an fsync with dbSync full, ~0.5 ms here) and a handful of statements instead of five per
// message. Hot-path style (statement.ts): drizzle cannot express these statements, and building
// them per call cost more than running them. Tests: group-commit.test.ts and the store contract.
import type { Assigned, MessageWrite } from "../core/store.ts";
import { DeferredState, devices, deferredTargets, idempotencyKeys, InboxState, inbox, messages, releasedTargets } from "./schema.ts";
import { fallbackJobs } from "./channels-schema.ts";
import { bytesToStore } from "./payload.ts";
import { type Statement, sqlNames } from "./statement.ts";

const m = sqlNames(messages);
const d = sqlNames(devices);
const i = sqlNames(inbox);
const df = sqlNames(deferredTargets);
const rt = sqlNames(releasedTargets);
const k = sqlNames(idempotencyKeys);
const fj = sqlNames(fallbackJobs);

// Bodies are CBOR bytes: they travel in the JSON array as hex and are stored as blobs.
const INSERT_MESSAGES = `INSERT INTO ${m.t} (${m.c.id}, ${m.c.appId}, ${m.c.priority}, ${m.c.data}, ${m.c.collapseKey}, ${m.c.category}, ${m.c.createdAt}, ${m.c.expiresAt}, ${m.c.targetCount},
    ${m.c.notification}, ${m.c.fallback})
  SELECT value->>0, value->>1, value->>2, unhex(value->>3), value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10 FROM json_each(?)`;

// A message with a fallback: one job per inbox row it took now, due `afterMs` after the write.
const FALLBACK_JOBS = `INSERT INTO ${fj.t} (${fj.c.messageId}, ${fj.c.appId}, ${fj.c.deviceId}, ${fj.c.seq}, ${fj.c.channels}, ${fj.c.dueAt}, ${fj.c.priority})
  SELECT ${i.c.messageId}, ${i.c.appId}, ${i.c.deviceId}, ${i.c.seq}, ?, ?, ? FROM ${i.t}
  WHERE ${i.c.messageId} = ? AND ${i.c.deviceId} IN (SELECT value FROM json_each(?)) AND ${i.c.state} = ${InboxState.pending}
  ON CONFLICT DO NOTHING`;

// Older pending rows with the collapse key of a message the device gets now. It runs before the
// group's inbox rows exist, so it never collapses one of them (see `collapsed` for those).
const COLLAPSE_PENDING = `UPDATE ${i.t} SET ${i.c.state} = ${InboxState.collapsed} FROM json_each(?) AS j
  WHERE ${i.t}.${i.c.appId} = j.value->>0 AND ${i.t}.${i.c.deviceId} = j.value->>1 AND ${i.t}.${i.c.collapseKey} = j.value->>2
    AND ${i.t}.${i.c.state} = ${InboxState.pending} AND ${i.t}.${i.c.collapseKey} IS NOT NULL`;

// Each device's last_seq moves past every message of the group it gets, at once.
const TAKE_SEQUENCES = `UPDATE ${d.t} SET ${d.c.lastSeq} = ${d.c.lastSeq} + j.value->>2 FROM json_each(?) AS j
  WHERE ${d.t}.${d.c.appId} = j.value->>0 AND ${d.t}.${d.c.id} = j.value->>1`;

// The new last_seqs, as one row (a group writer reads at most one row per statement).
const READ_SEQUENCES = `SELECT json_group_array(json_array(dev.${d.c.appId}, dev.${d.c.id}, dev.${d.c.lastSeq})) AS sequences
  FROM json_each(?) AS j JOIN ${d.t} AS dev ON dev.${d.c.appId} = j.value->>0 AND dev.${d.c.id} = j.value->>1`;

// A row's seq counts back from the device's new last_seq by the number of its later rows in the
// group, so the group's messages take a device's sequences in group order, without a gap. A
// target that is no device finds no last_seq: the NOT NULL seq fails the whole transaction.
const INSERT_INBOX = `INSERT INTO ${i.t} (${i.c.appId}, ${i.c.deviceId}, ${i.c.seq}, ${i.c.messageId}, ${i.c.state}, ${i.c.deliveredAt}, ${i.c.collapseKey})
  SELECT j.value->>0, j.value->>1, dev.${d.c.lastSeq} - (j.value->>2), j.value->>3, j.value->>4, NULL, j.value->>5
  FROM json_each(?) AS j LEFT JOIN ${d.t} AS dev ON dev.${d.c.appId} = j.value->>0 AND dev.${d.c.id} = j.value->>1`;

// Targets kept out of the inbox. On a release the rows exist: they change only while still scheduled
// or held, so a target another scheduler already moved on stays as it is.
const DEFER = `INSERT INTO ${df.t} (${df.c.messageId}, ${df.c.appId}, ${df.c.deviceId}, ${df.c.state}, ${df.c.reason}, ${df.c.releaseAt}, ${df.c.updatedAt})
  SELECT ?, ?, value->>0, value->>1, value->>2, value->>3, ? FROM json_each(?) WHERE true
  ON CONFLICT (${df.c.messageId}, ${df.c.deviceId}) DO UPDATE SET ${df.c.state} = excluded.${df.c.state}, ${df.c.reason} = excluded.${df.c.reason},
    ${df.c.releaseAt} = excluded.${df.c.releaseAt}, ${df.c.updatedAt} = excluded.${df.c.updatedAt}
  WHERE ${df.t}.${df.c.state} < ${DeferredState.suppressed}`;

// The release guard: a target released before fails this plain insert, and with it the whole
// transaction, so no target is ever released twice.
const RELEASE = `INSERT INTO ${rt.t} (${rt.c.messageId}, ${rt.c.deviceId}, ${rt.c.releasedAt}) SELECT ?, value, ? FROM json_each(?)`;
const UNDEFER = `DELETE FROM ${df.t} WHERE ${df.c.messageId} = ? AND ${df.c.deviceId} IN (SELECT value FROM json_each(?))`;

// A plain insert: a key taken already fails the transaction, which is the race's answer.
const INSERT_KEY = `INSERT INTO ${k.t} (${k.c.appId}, ${k.c.key}, ${k.c.requestHash}, ${k.c.messageId}, ${k.c.result}, ${k.c.createdAt}) VALUES (?, ?, ?, ?, ?, ?)`;

/** One write's statements besides its inbox rows: idempotency key, release guard, deferred targets. */
function ownStatements(w: MessageWrite): Statement[] {
  const { messageId, appId } = w.message;
  const out: Statement[] = [];
  if (w.idempotency) {
    const { key, requestHash, answer } = w.idempotency;
    out.push({ sql: INSERT_KEY, args: [appId, key, requestHash, messageId, JSON.stringify(answer), w.at] });
  }
  if (w.release && w.deliver.length > 0) {
    const ids = JSON.stringify(w.deliver);
    out.push({ sql: RELEASE, args: [messageId, w.at, ids] }, { sql: UNDEFER, args: [messageId, ids] });
  }
  if (w.deferred.length > 0) {
    const rows = w.deferred.map((t) => [t.deviceId, DeferredState[t.state], t.reason, t.releaseAt]);
    out.push({ sql: DEFER, args: [messageId, appId, w.at, JSON.stringify(rows)] });
  }
  return out;
}

export type GroupPlan = { statements: Statement[]; read(results: { rows: ArrayLike<Record<string, unknown>> }[]): Assigned[][] };

/** The statements of one transaction writing every write of the group, and how to read each write's sequences from its results. */
export function groupStatements(writes: MessageWrite[]): GroupPlan {
  const statements: Statement[] = [];
  const newMessages = writes.filter((w) => !w.release);
  if (newMessages.length > 0) {
    const rows = newMessages.map(({ message: x, targetCount }) => [
      x.messageId, x.appId, x.priority, bytesToStore(x.data).toHex(), x.collapseKey, x.category, x.createdAt, x.expiresAt, targetCount,
      x.notification ? JSON.stringify(x.notification) : null, x.fallback ? JSON.stringify(x.fallback) : null,
    ]);
    statements.push({ sql: INSERT_MESSAGES, args: [JSON.stringify(rows)] });
  }
  for (const w of writes) statements.push(...ownStatements(w));

  // Every (write, device) pair in group order; a device's pairs take its sequences in that order.
  type Entry = { write: number; appId: string; deviceId: string; key: string; later: number; collapsed: boolean };
  const entries: Entry[] = [];
  const perDevice = new Map<string, number>();
  writes.forEach((w, write) => {
    for (const deviceId of w.deliver.length > 1 ? new Set(w.deliver) : w.deliver) {
      const key = `${w.message.appId}\u0000${deviceId}`;
      perDevice.set(key, (perDevice.get(key) ?? 0) + 1);
      entries.push({ write, appId: w.message.appId, deviceId, key, later: 0, collapsed: false });
    }
  });
  if (entries.length === 0) return { statements, read: () => writes.map(() => []) };

  const seen = new Map<string, number>();
  const collapseKeys = new Set<string>();
  const collapsing: [string, string, string][] = [];
  for (let n = entries.length - 1; n >= 0; n--) {
    const e = entries[n]!;
    e.later = seen.get(e.key) ?? 0;
    seen.set(e.key, e.later + 1);
    const collapseKey = writes[e.write]!.message.collapseKey;
    if (collapseKey === null) continue;
    const slot = `${e.key}\u0000${collapseKey}`;
    if (collapseKeys.has(slot)) e.collapsed = true;
    else {
      collapseKeys.add(slot);
      collapsing.push([e.appId, e.deviceId, collapseKey]);
    }
  }
  if (collapsing.length > 0) statements.push({ sql: COLLAPSE_PENDING, args: [JSON.stringify(collapsing)] });
  const counts = JSON.stringify([...perDevice].map(([key, count]) => [...key.split("\u0000"), count]));
  statements.push({ sql: TAKE_SEQUENCES, args: [counts] });
  const reading = statements.length;
  statements.push({ sql: READ_SEQUENCES, args: [counts] });
  const rows = entries.map((e) => {
    const { messageId, collapseKey } = writes[e.write]!.message;
    return [e.appId, e.deviceId, e.later, messageId, e.collapsed ? InboxState.collapsed : InboxState.pending, collapseKey];
  });
  statements.push({ sql: INSERT_INBOX, args: [JSON.stringify(rows)] });
  for (const w of writes) {
    const fallback = w.message.fallback;
    if (!fallback || w.deliver.length === 0) continue;
    const args = [JSON.stringify(fallback.channels), w.at + fallback.afterMs, w.message.priority, w.message.messageId, JSON.stringify(w.deliver)];
    statements.push({ sql: FALLBACK_JOBS, args });
  }

  return {
    statements,
    read(results) {
      const lastSeq = new Map<string, number>();
      const sequences = JSON.parse(String(results[reading]!.rows[0]?.sequences ?? "[]")) as [string, string, number][];
      for (const [appId, deviceId, seq] of sequences) lastSeq.set(`${appId}\u0000${deviceId}`, seq);
      const out: Assigned[][] = writes.map(() => []);
      for (const e of entries) {
        const last = lastSeq.get(e.key);
        if (last === undefined) throw new Error(`device ${e.deviceId} took no sequence`);
        out[e.write]!.push({ deviceId: e.deviceId, seq: last - e.later, collapsed: e.collapsed });
      }
      return out;
    },
  };
}
