// Delivery preferences: what a device or its user asked for (mutes, quiet hours, frequency caps),
// merged into one effective set per device and turned into a decision per message. Pure logic;
// the store module core/store/preferences.ts reads and writes them.
import { Priority, type PriorityCode } from "./protocol.ts";

export type FrequencyCap = { category: string; limit: number; windowSeconds: number };

/** Quiet hours as local wall-clock times "HH:MM"; [start, end), spanning midnight when start > end. */
export type QuietHours = { start: string; end: string; allowHighPriority: boolean };

/** What one device or one user stored. */
export type Preferences = {
  timeZone: string | null;
  quietHours: QuietHours | null;
  mutedCategories: string[];
  frequencyCaps: FrequencyCap[];
};

export type EffectivePreferences = {
  timeZone: string;
  quiet: { startMinute: number; endMinute: number; allowHighPriority: boolean } | null;
  muted: ReadonlySet<string>;
  caps: ReadonlyMap<string, FrequencyCap>;
};

export const NO_PREFERENCES: EffectivePreferences = { timeZone: "UTC", quiet: null, muted: new Set(), caps: new Map() };

export type SuppressReason = "muted" | "frequency_cap";

export type Decision =
  | { action: "deliver"; cap: FrequencyCap | null }
  | { action: "suppress"; reason: SuppressReason }
  | { action: "hold"; until: number };

const MINUTES_PER_DAY = 24 * 60;

/** "HH:MM" → minutes after midnight; null when malformed. */
export function parseClock(text: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * A device's own settings win over its user's: its time zone and quiet hours replace the user's
 * when set, its caps replace the user's cap for the same category, and mutes add up.
 */
export function mergePreferences(device: Preferences | null, user: Preferences | null): EffectivePreferences {
  if (!device && !user) return NO_PREFERENCES;
  const quietHours = device?.quietHours ?? user?.quietHours ?? null;
  const caps = new Map<string, FrequencyCap>();
  for (const cap of user?.frequencyCaps ?? []) caps.set(cap.category, cap);
  for (const cap of device?.frequencyCaps ?? []) caps.set(cap.category, cap);
  const startMinute = quietHours ? parseClock(quietHours.start) : null;
  const endMinute = quietHours ? parseClock(quietHours.end) : null;
  return {
    timeZone: device?.timeZone ?? user?.timeZone ?? "UTC",
    quiet:
      quietHours && startMinute !== null && endMinute !== null && startMinute !== endMinute
        ? { startMinute, endMinute, allowHighPriority: quietHours.allowHighPriority }
        : null,
    muted: new Set([...(user?.mutedCategories ?? []), ...(device?.mutedCategories ?? [])]),
    caps,
  };
}

/**
 * What to do with a message for one device now: mutes suppress, quiet hours hold it until the
 * window ends (high priority passes when allowed), and a capped category is delivered only if the
 * cap has room, which the store checks atomically when it writes.
 */
export function decide(
  prefs: EffectivePreferences,
  message: { category: string | null; priority: PriorityCode },
  now: number,
): Decision {
  if (message.category !== null && prefs.muted.has(message.category)) return { action: "suppress", reason: "muted" };
  const quiet = prefs.quiet;
  if (quiet && !(quiet.allowHighPriority && message.priority === Priority.high)) {
    const until = quietWindowEnd(now, prefs.timeZone, quiet.startMinute, quiet.endMinute);
    if (until !== null && until > now) return { action: "hold", until };
  }
  const cap = message.category === null ? null : (prefs.caps.get(message.category) ?? null);
  return { action: "deliver", cap };
}

/** The instant the quiet window around `now` ends, or null when `now` is outside it. */
export function quietWindowEnd(now: number, timeZone: string, startMinute: number, endMinute: number): number | null {
  const wall = wallClock(now, timeZone);
  const minute = wall.hour * 60 + wall.minute;
  const inside =
    startMinute < endMinute ? minute >= startMinute && minute < endMinute : minute >= startMinute || minute < endMinute;
  if (!inside) return null;
  const minutesLeft = (endMinute - minute + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  const startOfMinute = now - wall.second * 1000 - (now % 1000);
  const naive = startOfMinute + minutesLeft * 60_000;
  // A daylight-saving change inside the window moves the wall clock against UTC: correct by it.
  const corrected = naive - (offsetMinutes(naive, timeZone) - offsetMinutes(now, timeZone)) * 60_000;
  const landed = wallClock(corrected, timeZone);
  // The end time may not exist that day (the clock jumps over it); the naive instant is just after.
  return landed.hour * 60 + landed.minute === endMinute && corrected > now ? corrected : naive;
}

type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Local time minus UTC, in minutes, at `instant`. */
function offsetMinutes(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - (instant - (instant % 1000))) / 60_000);
}
