// Preferences in the store, and the targets of a send with their effective preferences: one read
// joins each device with its own and its user's settings.
import { and, eq } from "drizzle-orm";
import { formatClock, type FrequencyCap, mergePreferences, type Preferences, parseClock } from "../core/preferences.ts";
import type { Subject, TargetDevice } from "../core/store.ts";
import { devices, preferences } from "./schema.ts";
import { type Db, readRow, sqlNames } from "./statement.ts";

type PreferenceRow = typeof preferences.$inferSelect;
type PreferenceColumns = Pick<PreferenceRow, "timeZone" | "quietStart" | "quietEnd" | "quietAllowHigh" | "mutedCategories" | "frequencyCaps">;

function fromRow(row: PreferenceColumns | null): Preferences | null {
  if (!row) return null;
  return {
    timeZone: row.timeZone,
    quietHours:
      row.quietStart === null || row.quietEnd === null
        ? null
        : { start: formatClock(row.quietStart), end: formatClock(row.quietEnd), allowHighPriority: row.quietAllowHigh },
    mutedCategories: JSON.parse(row.mutedCategories) as string[],
    frequencyCaps: JSON.parse(row.frequencyCaps) as FrequencyCap[],
  };
}

export async function getPreferences(db: Db, appId: string, subject: Subject): Promise<Preferences | null> {
  const [row] = await db
    .select()
    .from(preferences)
    .where(and(eq(preferences.appId, appId), eq(preferences.subjectType, subject.type), eq(preferences.subjectId, subject.id)));
  return fromRow(row ?? null);
}

/** Replaces the subject's preferences as a whole. */
export async function putPreferences(db: Db, appId: string, subject: Subject, prefs: Preferences, now = Date.now()): Promise<void> {
  const values = {
    timeZone: prefs.timeZone,
    quietStart: prefs.quietHours ? parseClock(prefs.quietHours.start) : null,
    quietEnd: prefs.quietHours ? parseClock(prefs.quietHours.end) : null,
    quietAllowHigh: prefs.quietHours?.allowHighPriority ?? false,
    mutedCategories: JSON.stringify([...new Set(prefs.mutedCategories)]),
    frequencyCaps: JSON.stringify(prefs.frequencyCaps),
    updatedAt: now,
  };
  await db
    .insert(preferences)
    .values({ appId, subjectType: subject.type, subjectId: subject.id, ...values })
    .onConflictDoUpdate({ target: [preferences.appId, preferences.subjectType, preferences.subjectId], set: values });
}

export async function deletePreferences(db: Db, appId: string, subject: Subject): Promise<boolean> {
  const rows = await db
    .delete(preferences)
    .where(and(eq(preferences.appId, appId), eq(preferences.subjectType, subject.type), eq(preferences.subjectId, subject.id)))
    .returning({ id: preferences.subjectId });
  return rows.length > 0;
}

/** One subject's preference columns as TARGETS returns them: a JSON array, or null when it has none. */
type PreferenceArray = [string | null, number | null, number | null, number, string, string] | null;

function fromArray(a: PreferenceArray): PreferenceColumns | null {
  if (!a) return null;
  return { timeZone: a[0], quietStart: a[1], quietEnd: a[2], quietAllowHigh: Boolean(a[3]), mutedCategories: a[4], frequencyCaps: a[5] };
}

const dv = sqlNames(devices);
const pr = sqlNames(preferences);
const subjectPreferences = (type: "device" | "user", id: string) => `(
    SELECT json_array(${pr.c.timeZone}, ${pr.c.quietStart}, ${pr.c.quietEnd}, ${pr.c.quietAllowHigh}, ${pr.c.mutedCategories}, ${pr.c.frequencyCaps})
    FROM ${pr.t} WHERE ${pr.c.appId} = d.${dv.c.appId} AND ${pr.c.subjectType} = '${type}' AND ${pr.c.subjectId} = ${id})`;
// The whole answer is one JSON value, [[deviceId, userId, devicePrefs, userPrefs], …]: the local
// client's cost grows with every result column (it asks for each column's name and type per call),
// so fourteen columns cost more than the query itself.
const TARGETS = (match: string) => `
  SELECT json_group_array(json_array(d.${dv.c.id}, d.${dv.c.userId},
    ${subjectPreferences("device", `d.${dv.c.id}`)},
    ${subjectPreferences("user", `d.${dv.c.userId}`)})) AS targets
  FROM ${dv.t} d WHERE d.${dv.c.appId} = ? AND ${match}`;
const TARGET_ONE = TARGETS(`d.${dv.c.id} = ?`);
const TARGET_MANY = TARGETS(`d.${dv.c.id} IN (SELECT value FROM json_each(?))`);

/**
 * The app's devices among `deviceIds` (unknown ones are left out) with their effective preferences.
 * Hand-written SQL, built once: it runs on every send, and building it with the query builder
 * (aliased joins) cost several times the query itself. One device (most sends) compares; more
 * travel as a JSON array.
 */
export async function loadTargets(db: Db, appId: string, deviceIds: string[]): Promise<TargetDevice[]> {
  if (deviceIds.length === 0) return [];
  const statement =
    deviceIds.length === 1 ? { sql: TARGET_ONE, args: [appId, deviceIds[0]!] } : { sql: TARGET_MANY, args: [appId, JSON.stringify(deviceIds)] };
  const row = await readRow(db.$client, statement);
  const found = JSON.parse(String(row?.targets ?? "[]")) as [string, string | null, PreferenceArray, PreferenceArray][];
  return found.map(([deviceId, userId, own, users]) => ({
    deviceId,
    userId,
    prefs: mergePreferences(fromRow(fromArray(own)), fromRow(fromArray(users))),
  }));
}
