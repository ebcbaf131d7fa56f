import { expect, test } from "bun:test";
import { decide, mergePreferences, NO_PREFERENCES, type Preferences, parseClock, quietWindowEnd, wallClock } from "./preferences.ts";
import { Priority } from "./protocol.ts";

const prefs = (p: Partial<Preferences>): Preferences => ({
  timeZone: null,
  quietHours: null,
  mutedCategories: [],
  frequencyCaps: [],
  ...p,
});

test("clock strings parse to minutes and reject nonsense", () => {
  expect(parseClock("00:00")).toBe(0);
  expect(parseClock("22:30")).toBe(1350);
  expect(parseClock("24:00")).toBeNull();
  expect(parseClock("7:00")).toBeNull();
});

test("quiet hours across midnight: inside until the local end, outside after", () => {
  // 23:00 in Berlin in winter is 22:00 UTC.
  const now = Date.UTC(2026, 0, 10, 22, 0, 30);
  const end = quietWindowEnd(now, "Europe/Berlin", parseClock("22:00")!, parseClock("07:00")!);
  expect(end).toBe(Date.UTC(2026, 0, 11, 6, 0, 0));
  expect(quietWindowEnd(Date.UTC(2026, 0, 11, 6, 0, 0), "Europe/Berlin", 22 * 60, 7 * 60)).toBeNull();
  expect(quietWindowEnd(Date.UTC(2026, 0, 11, 12, 0, 0), "Europe/Berlin", 22 * 60, 7 * 60)).toBeNull();
});

test("a daylight-saving change inside the window still ends it at the local end time", () => {
  // Berlin springs forward on 2026-03-29 at 02:00; 07:00 local that morning is 05:00 UTC.
  const now = Date.UTC(2026, 2, 28, 22, 0, 0);
  const end = quietWindowEnd(now, "Europe/Berlin", 22 * 60, 7 * 60)!;
  expect(end).toBe(Date.UTC(2026, 2, 29, 5, 0, 0));
  expect(wallClock(end, "Europe/Berlin")).toMatchObject({ hour: 7, minute: 0 });
  // New York falls back on 2026-11-01: 06:00 local that morning is 11:00 UTC.
  const fallBack = quietWindowEnd(Date.UTC(2026, 10, 1, 3, 0, 0), "America/New_York", 22 * 60, 6 * 60)!;
  expect(fallBack).toBe(Date.UTC(2026, 10, 1, 11, 0, 0));
});

test("a window within one day, in a time zone east of UTC", () => {
  // 13:15 in Tokyo is 04:15 UTC; quiet 12:00–14:00 ends 05:00 UTC.
  expect(quietWindowEnd(Date.UTC(2026, 5, 1, 4, 15), "Asia/Tokyo", 12 * 60, 14 * 60)).toBe(Date.UTC(2026, 5, 1, 5, 0));
  expect(quietWindowEnd(Date.UTC(2026, 5, 1, 6, 0), "Asia/Tokyo", 12 * 60, 14 * 60)).toBeNull();
});

test("decide: mute suppresses, quiet hours hold unless high priority may pass, caps travel with delivery", () => {
  const now = Date.UTC(2026, 0, 10, 23, 0);
  const effective = mergePreferences(
    prefs({ quietHours: { start: "22:00", end: "07:00", allowHighPriority: true }, mutedCategories: ["promo"] }),
    prefs({ frequencyCaps: [{ category: "news", limit: 2, windowSeconds: 3600 }] }),
  );
  expect(decide(effective, { category: "promo", priority: Priority.high }, now)).toEqual({ action: "suppress", reason: "muted" });
  expect(decide(effective, { category: "news", priority: Priority.normal }, now)).toEqual({
    action: "hold",
    until: Date.UTC(2026, 0, 11, 7, 0),
  });
  expect(decide(effective, { category: "news", priority: Priority.high }, now)).toEqual({
    action: "deliver",
    cap: { category: "news", limit: 2, windowSeconds: 3600 },
  });
  expect(decide(effective, { category: null, priority: Priority.normal }, Date.UTC(2026, 0, 10, 12, 0))).toEqual({
    action: "deliver",
    cap: null,
  });
  expect(decide(NO_PREFERENCES, { category: "promo", priority: Priority.low }, now)).toEqual({ action: "deliver", cap: null });
});

test("merge: the device's settings win over its user's; mutes add up", () => {
  const merged = mergePreferences(
    prefs({ timeZone: "Asia/Tokyo", mutedCategories: ["a"], frequencyCaps: [{ category: "x", limit: 1, windowSeconds: 60 }] }),
    prefs({
      timeZone: "Europe/Paris",
      quietHours: { start: "01:00", end: "02:00", allowHighPriority: false },
      mutedCategories: ["b"],
      frequencyCaps: [
        { category: "x", limit: 9, windowSeconds: 60 },
        { category: "y", limit: 3, windowSeconds: 60 },
      ],
    }),
  );
  expect(merged.timeZone).toBe("Asia/Tokyo");
  expect(merged.quiet).toEqual({ startMinute: 60, endMinute: 120, allowHighPriority: false });
  expect([...merged.muted].sort()).toEqual(["a", "b"]);
  expect(merged.caps.get("x")?.limit).toBe(1);
  expect(merged.caps.get("y")?.limit).toBe(3);
});
