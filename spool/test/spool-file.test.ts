// The spool file's own rules: order, bounds, idempotency keys, refusals, and counts across a reopen.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { SpoolFull } from "../../core/spool.ts";
import { tempDir } from "../../test-support/harness.ts";
import { openSpoolFile } from "../spool-file.ts";

const send = (n: number) => ({ to: { deviceId: "d" }, data: { n } });

test("forwarded in order, counted across a reopen, refusals kept for tracking", async () => {
  using dir = tempDir();
  const path = join(dir.path, "s.spool");
  let spool = await openSpoolFile(path, { maxEntries: 10, maxBytes: 1 << 20 });
  for (let n = 0; n < 4; n++) await spool.append({ appId: "a", messageId: `m${n}`, acceptedAt: 1000 + n, request: send(n), ...(n === 2 ? { idempotency: { key: "k", requestHash: "h" } } : {}) });
  spool.close();
  spool = await openSpoolFile(path, { maxEntries: 10, maxBytes: 1 << 20 });
  try {
    expect(spool.size()).toMatchObject({ entries: 4, oldestAcceptedAt: 1000 });
    const page = await spool.oldest(10);
    expect(page.map((s) => [s.messageId, (s.request.data as { n: number }).n])).toEqual([["m0", 0], ["m1", 1], ["m2", 2], ["m3", 3]]);
    expect(await spool.byIdempotencyKey("a", "k")).toEqual({ messageId: "m2", acceptedAt: 1002, requestHash: "h" });
    expect(await spool.byIdempotencyKey("other-app", "k")).toBeNull();
    expect(await spool.failed(page[1]!.seq, "boom")).toBe(1);
    expect(await spool.record("a", "m1")).toMatchObject({ state: "queued", attempts: 1, lastError: "boom" });
    expect(await spool.record("other-app", "m1")).toBeNull();

    await spool.forwarded([page[0]!.seq]);
    await spool.refused(page[1]!.seq, { code: "DEVICE_NOT_FOUND", message: "unknown device(s): d" }, 5000);
    expect(spool.size()).toMatchObject({ entries: 2, oldestAcceptedAt: 1002 });
    expect(await spool.record("a", "m0")).toBeNull();
    expect(await spool.record("a", "m1")).toEqual({ state: "refused", messageId: "m1", acceptedAt: 1001, refusedAt: 5000, error: { code: "DEVICE_NOT_FOUND", message: "unknown device(s): d" } });
    expect(await spool.dropRefusalsBefore(5001)).toBe(1);
    expect(await spool.record("a", "m1")).toBeNull();
  } finally {
    spool.close();
  }
});

test("bounded by entries and by bytes: past either, SpoolFull and nothing kept", async () => {
  using dir = tempDir();
  const byEntries = await openSpoolFile(join(dir.path, "e.spool"), { maxEntries: 2, maxBytes: 1 << 20 });
  const byBytes = await openSpoolFile(join(dir.path, "b.spool"), { maxEntries: 100, maxBytes: 100 });
  try {
    await byEntries.append({ appId: "a", messageId: "m0", acceptedAt: 1, request: send(0) });
    await byEntries.append({ appId: "a", messageId: "m1", acceptedAt: 2, request: send(1) });
    expect(byEntries.append({ appId: "a", messageId: "m2", acceptedAt: 3, request: send(2) })).rejects.toBeInstanceOf(SpoolFull);
    expect(byEntries.size().entries).toBe(2);

    await byBytes.append({ appId: "a", messageId: "m0", acceptedAt: 1, request: send(0) });
    const big = { to: { deviceId: "d" }, data: "x".repeat(100) };
    expect(byBytes.append({ appId: "a", messageId: "m1", acceptedAt: 2, request: big })).rejects.toThrow(/bytes/);
    expect((await byBytes.oldest(10)).map((s) => s.messageId)).toEqual(["m0"]);
  } finally {
    byEntries.close();
    byBytes.close();
  }
});

test("queued sends are counted per way, across a reopen; a page can leave blocked ways out", async () => {
  using dir = tempDir();
  const path = join(dir.path, "s.spool");
  let spool = await openSpoolFile(path, { maxEntries: 10, maxBytes: 1 << 20 });
  const ways = [undefined, "http://edge-b", undefined, "http://edge-c", "http://edge-b"];
  for (const [n, forwardTo] of ways.entries()) await spool.append({ appId: "a", messageId: `m${n}`, acceptedAt: 1000 + n, request: send(n), ...(forwardTo ? { forwardTo } : {}) });
  spool.close();
  spool = await openSpoolFile(path, { maxEntries: 10, maxBytes: 1 << 20 });
  try {
    expect([spool.waiting(), spool.waiting("http://edge-b"), spool.waiting("http://edge-c"), spool.waiting("http://edge-d")]).toEqual([2, 2, 1, 0]);
    const ids = async (skip: string[]) => (await spool.oldest(10, new Set(skip))).map((s) => s.messageId);
    expect(await ids([])).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(await ids(["http://edge-b"])).toEqual(["m0", "m2", "m3"]);
    expect(await ids(["", "http://edge-c"])).toEqual(["m1", "m4"]);
    const page = await spool.oldest(10);
    await spool.forwarded([page[1]!.seq, page[2]!.seq]);
    await spool.refused(page[3]!.seq, { code: "DEVICE_NOT_FOUND", message: "unknown device(s): d" }, 5000);
    expect([spool.waiting(), spool.waiting("http://edge-b"), spool.waiting("http://edge-c")]).toEqual([1, 1, 0]);
  } finally {
    spool.close();
  }
});
