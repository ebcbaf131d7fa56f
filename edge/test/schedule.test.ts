// Scheduled messages: released by the scheduler when due, kept across a restart, never released
// twice even by two schedulers on one store. Short delays stand in for long ones: a long delay is
// the same row, found by the same poll, later.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../core/config.ts";
import { Scheduler } from "../../core/schedule.ts";
import { openStore } from "../../store/open.ts";
import { connectDevice, startTestMesh, tempDir } from "../../test-support/harness.ts";

test("a message scheduled with delay is held until due, then released and delivered", async () => {
  await using mesh = await startTestMesh({ schedulerPollMs: 50 });
  const creds = await mesh.device("d");
  await using device = await connectDevice(mesh.ws, creds);
  const before = Date.now();
  const sent = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: { later: true }, delay: 1 });
  expect(sent.status).toBe(202);
  expect(sent.body.deliverAt).toBeGreaterThanOrEqual(before + 1000);
  expect(sent.body.states).toMatchObject({ pending: 0, scheduled: 1 });
  const waiting = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  expect(waiting.body.waiting).toEqual({ scheduled: 1, held: 0 });
  expect(waiting.body.recipients).toEqual([
    { deviceId: "d", state: "scheduled", seq: null, reason: "schedule", queuedAt: null, deliveredAt: null, at: sent.body.deliverAt, channels: [], fallback: null },
  ]);
  expect(device.received).toHaveLength(0);

  await device.waitFor(1, 10_000);
  expect(Date.now()).toBeGreaterThanOrEqual(sent.body.deliverAt);
  expect(device.received[0]).toMatchObject({ seq: 1, data: { later: true } });
  await Bun.sleep(150);
  const done = await mesh.api("GET", `/v1/messages/${sent.body.messageId}`);
  expect(done.body.states.delivered).toBe(1);
  expect(done.body.waiting).toEqual({ scheduled: 0, held: 0 });
  expect(done.body.recipients[0].queuedAt).toBeGreaterThanOrEqual(sent.body.deliverAt);
});

test("deliverAt as a date-time; ttl counts from when it is due; years ahead stays scheduled", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("d");
  const at = new Date(Date.now() + 3 * 365 * 24 * 3600 * 1000);
  const far = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, deliverAt: at.toISOString(), ttl: 60 });
  expect(far.status).toBe(202);
  expect(far.body.deliverAt).toBe(at.getTime());
  const status = await mesh.api("GET", `/v1/messages/${far.body.messageId}`);
  expect(status.body.expiresAt).toBe(at.getTime() + 60_000);
  expect(await mesh.scheduler.runOnce()).toBe(0);
  expect((await mesh.api("GET", `/v1/messages/${far.body.messageId}`)).body.waiting.scheduled).toBe(1);

  const both = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, deliverAt: Date.now(), delay: 5 });
  expect(both.status).toBe(400);
  const tooFar = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: 1, deliverAt: Date.now() + 11 * 365 * 24 * 3600 * 1000 });
  expect(tooFar.status).toBe(400);
});

test("a scheduled message survives a restart and is released once", async () => {
  using dir = tempDir();
  const overrides = { schedulerPollMs: 50 };
  let messageId: string;
  let creds: { deviceId: string; token: string };
  {
    await using mesh = await startTestMesh(overrides, dir.path);
    creds = await mesh.device("d");
    const sent = await mesh.api("POST", "/v1/messages", { to: { deviceId: "d" }, data: { kept: true }, delay: 1 });
    messageId = sent.body.messageId;
  } // stopped before it was due
  await Bun.sleep(1100);
  await using mesh = await startTestMesh(overrides, dir.path);
  await using device = await connectDevice(mesh.ws, creds);
  await device.waitFor(1);
  await Bun.sleep(300);
  expect(device.received.map((m) => [m.seq, m.messageId])).toEqual([[1, messageId]]);
  expect(await mesh.store.latestSeq(mesh.appId, "d")).toBe(1);
  const status = await mesh.api("GET", `/v1/messages/${messageId}`);
  expect(status.body.states).toMatchObject({ delivered: 1, pending: 0 });
});

test("two schedulers on one store file never release a target twice", async () => {
  await using mesh = await startTestMesh();
  await mesh.scheduler.stop(); // the racers below are the only ones
  for (let i = 0; i < 20; i++) await mesh.device(`d${i}`);
  const deviceIds = Array.from({ length: 20 }, (_, i) => `d${i}`);
  const sent: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await mesh.api("POST", "/v1/messages", { to: { deviceIds }, data: { i }, deliverAt: Date.now() + 200 });
    sent.push(res.body.messageId);
  }
  await Bun.sleep(250);
  // A second process's scheduler: its own client on the same file, racing this process's.
  const other = await openStore({ db: `file:${join(mesh.dir, "mesh.db")}`, dbSync: "normal" });
  const config = parseConfig({ schedulerPollMs: 60_000 });
  const schedulers = [
    new Scheduler({ store: mesh.store, engine: mesh.engine, config }),
    new Scheduler({ store: other, engine: mesh.engine, config }),
    new Scheduler({ store: mesh.store, engine: mesh.engine, config }),
  ];
  await Promise.all(schedulers.map((s) => s.runOnce()));
  other.client.close();
  for (const deviceId of deviceIds) expect(await mesh.store.latestSeq(mesh.appId, deviceId)).toBe(10);
  for (const messageId of sent) {
    const status = await mesh.api("GET", `/v1/messages/${messageId}`);
    expect(status.body.states.pending).toBe(20);
    expect(status.body.waiting.scheduled).toBe(0);
    expect(new Set(status.body.recipients.map((r: any) => r.deviceId)).size).toBe(20);
  }
});
