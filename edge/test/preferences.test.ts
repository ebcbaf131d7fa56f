// Preferences over a real edge: mutes suppress, quiet hours hold (and release at the window's end,
// or expire when the ttl runs out first), frequency caps suppress the excess, even under
// concurrent sends; every count shows in tracking and in stats.
import { expect, test } from "bun:test";
import { parseConfig } from "../../core/config.ts";
import { Scheduler } from "../../core/schedule.ts";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** Quiet hours in UTC around now: began an hour ago, end two hours from now (whole minutes). */
function quietAroundNow() {
  const now = Date.now();
  const end = now - (now % 60_000) + 2 * 3600_000;
  return { quietHours: { start: clock(now - 3600_000), end: clock(end), allowHighPriority: true }, timeZone: "UTC", end };
}

test("preferences are stored per device and per user; bad ones are refused", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const prefs = {
    timeZone: "Europe/Berlin",
    quietHours: { start: "22:00", end: "07:00", allowHighPriority: true },
    mutedCategories: ["promo"],
    frequencyCaps: [{ category: "news", limit: 3, windowSeconds: 3600 }],
  };
  expect((await mesh.api("PUT", "/v1/devices/d/preferences", prefs)).status).toBe(200);
  expect((await mesh.api("GET", "/v1/devices/d/preferences")).body).toEqual(prefs);
  expect((await mesh.api("PUT", "/v1/users/u1/preferences", { mutedCategories: ["x"] })).status).toBe(200);
  expect((await mesh.api("GET", "/v1/users/u1/preferences")).body).toEqual({
    timeZone: null,
    quietHours: null,
    mutedCategories: ["x"],
    frequencyCaps: [],
  });
  expect((await mesh.api("PUT", "/v1/devices/ghost/preferences", {})).body.error.code).toBe("DEVICE_NOT_FOUND");
  const badZone = await mesh.api("PUT", "/v1/devices/d/preferences", { timeZone: "Mars/Olympus" });
  expect(badZone.status).toBe(400);
  const badClock = await mesh.api("PUT", "/v1/devices/d/preferences", { quietHours: { start: "25:00", end: "07:00" } });
  expect(badClock.status).toBe(400);
  const removed = await fetch(`${mesh.edge}/v1/devices/d/preferences`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${mesh.apiKey}` },
  });
  expect(removed.status).toBe(204);
  expect((await mesh.api("GET", "/v1/devices/d/preferences")).body.error.code).toBe("PREFERENCES_NOT_FOUND");
});

test("a muted category is suppressed, for the device's own mute and its user's", async () => {
  await using mesh = await startTestMesh();
  await mesh.api("POST", "/v1/devices", { deviceId: "phone", userId: "ann" });
  const creds = await mesh.device("phone");
  await mesh.api("PUT", "/v1/users/ann/preferences", { mutedCategories: ["promo"] });
  await mesh.api("PUT", "/v1/devices/phone/preferences", { mutedCategories: ["ads"] });
  const promo = await mesh.api("POST", "/v1/messages", { to: { userId: "ann" }, data: "promo", category: "promo" });
  const ads = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: "ads", category: "ads" });
  const chat = await mesh.api("POST", "/v1/messages", { to: { deviceId: "phone" }, data: "chat", category: "chat" });
  expect(promo.body.states).toMatchObject({ pending: 0, suppressed: 1 });
  expect(chat.body.states).toMatchObject({ pending: 1, suppressed: 0 });
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(1);
  await Bun.sleep(200);
  // Suppressed targets take no sequence: the device sees seq 1, with no gap to fetch.
  expect(device.received.map((m) => [m.seq, m.data])).toEqual([[1, "chat"]]);
  const status = await mesh.api("GET", `/v1/messages/${ads.body.messageId}`);
  expect(status.body.states.suppressed).toBe(1);
  expect(status.body.suppressedBy).toEqual({ muted: 1, frequency_cap: 0 });
  expect(status.body.recipients[0]).toMatchObject({ deviceId: "phone", state: "suppressed", reason: "muted", seq: null });
  const stats = await mesh.api("GET", "/v1/stats");
  expect(stats.body).toMatchObject({ messages: 3, targets: 3, sent: 1, suppressedBy: { muted: 2, frequency_cap: 0 } });
});

test("quiet hours hold a message until the window ends; high priority may pass", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("d");
  const quiet = quietAroundNow();
  await mesh.api("PUT", "/v1/devices/d/preferences", { timeZone: quiet.timeZone, quietHours: quiet.quietHours });
  await using device = await connectDevice(mesh.ws, creds);
  const held = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: "held" });
  expect(held.body.states).toMatchObject({ pending: 0, held: 1 });
  const urgent = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: "urgent", priority: "high" });
  expect(urgent.body.states).toMatchObject({ pending: 1, held: 0 });
  await device.waitFor(1);
  await Bun.sleep(200);
  expect(device.received.map((m) => m.data)).toEqual(["urgent"]);
  const status = await mesh.api("GET", `/v1/messages/${held.body.messageId}`);
  expect(status.body.waiting).toEqual({ scheduled: 0, held: 1 });
  expect(status.body.recipients[0]).toMatchObject({ state: "held", reason: "quiet_hours", at: quiet.end });

  // Hours later, as the scheduler sees it: the window is over and the message goes out.
  const later = new Scheduler({ store: mesh.store, engine: mesh.engine, config: parseConfig({}), now: () => quiet.end + 1000 });
  expect(await later.runOnce()).toBe(1);
  await device.waitFor(2);
  expect(device.received.map((m) => m.data)).toEqual(["urgent", "held"]);
  expect(await later.runOnce()).toBe(0);
});

test("a held message whose ttl runs out during quiet hours expires, counted", async () => {
  await using mesh = await startTestMesh({ schedulerPollMs: 50 });
  await mesh.device("d");
  const quiet = quietAroundNow();
  await mesh.api("PUT", "/v1/devices/d/preferences", { timeZone: quiet.timeZone, quietHours: quiet.quietHours });
  const sent = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, ttl: 1 });
  expect(sent.body.states.held).toBe(1);
  await Bun.sleep(1300);
  const status = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  expect(status.body.states.expired).toBe(1);
  expect(status.body.waiting.held).toBe(0);
  expect(status.body.recipients[0]).toMatchObject({ state: "expired", reason: "ttl", seq: null });
  const stats = await mesh.api("GET", "/v1/stats");
  expect(stats.body.states.expired).toBe(1);
  expect(await mesh.store.latestSeq(mesh.appId, "d")).toBe(0);
});

test("a frequency cap lets `limit` through per window and suppresses the excess, even when sends race", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("d");
  await mesh.device("racer");
  const cap = { frequencyCaps: [{ category: "news", limit: 2, windowSeconds: 3600 }] };
  await mesh.api("PUT", "/v1/devices/d/preferences", cap);
  await mesh.api("PUT", "/v1/devices/racer/preferences", { frequencyCaps: [{ category: "news", limit: 3, windowSeconds: 3600 }] });
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: i, category: "news" }));
  expect(results.map((r) => r.body.states.pending)).toEqual([1, 1, 0, 0, 0]);
  expect(results.map((r) => r.body.states.suppressed)).toEqual([0, 0, 1, 1, 1]);
  // Other categories are not counted.
  const other = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: "other", category: "chat" });
  expect(other.body.states.pending).toBe(1);

  const raced = await Promise.all(
    Array.from({ length: 10 }, (_, i) => mesh.api("POST", "/v1/messages", { to: { deviceId: "racer" }, data: i, category: "news" })),
  );
  expect(raced.filter((r) => r.body.states.pending === 1)).toHaveLength(3);
  expect(await mesh.store.latestSeq(mesh.appId, "racer")).toBe(3);

  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(3);
  await Bun.sleep(200);
  expect(device.received.map((m) => m.data)).toEqual([0, 1, "other"]);
  const status = await mesh.api("GET", `/v1/messages/${results[4]!.body.messageId}`);
  expect(status.body.suppressedBy).toEqual({ muted: 0, frequency_cap: 1 });
  const stats = await mesh.api("GET", "/v1/stats");
  expect(stats.body.suppressedBy.frequency_cap).toBe(10);
  expect(stats.body.states.suppressed).toBe(10);
});

test("stats: sent, delivered and delivery latency percentiles for a range", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("d");
  await mesh.device("offline");
  const start = Date.now();
  await using device = await connectDevice(mesh.ws, creds);
  for (let i = 0; i < 20; i++) await mesh.send(["d", "offline"], { i });
  await device.waitFor(20);
  await Bun.sleep(200);
  const stats = await mesh.api("GET", `/v1/stats?from=${start}&to=${new Date(Date.now() + 1000).toISOString()}`);
  expect(stats.status).toBe(200);
  expect(stats.body).toMatchObject({ messages: 20, targets: 40, sent: 40, states: { delivered: 20, pending: 20 } });
  const { latencyMs } = stats.body;
  expect(latencyMs.count).toBe(20);
  expect(latencyMs.p50).toBeGreaterThanOrEqual(0);
  expect(latencyMs.p50).toBeLessThanOrEqual(latencyMs.p90);
  expect(latencyMs.p90).toBeLessThanOrEqual(latencyMs.p99);
  expect(latencyMs.p99).toBeLessThanOrEqual(latencyMs.max);
  const empty = await mesh.api("GET", `/v1/stats?from=${start - 120_000}&to=${start - 60_000}`);
  expect(empty.body).toMatchObject({ messages: 0, latencyMs: { count: 0, p50: null } });
  expect((await mesh.api("GET", "/v1/stats?from=10&to=5")).status).toBe(400);
});
