// Priorities, collapse keys and TTL as a device sees them.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

// Devices heartbeat every 2 s; the relay counts a device awake for 300 ms after its own traffic.
const config = { heartbeat: { min: 1, default: 30, max: 600 }, lowPriorityWakeMs: 300 };

test("a low-priority message waits for the device's next heartbeat; a high one goes at once", async () => {
  await using mesh = await startTestMesh(config);
  const creds = await mesh.device("sleepy");
  await using device = await connectDevice(mesh.ws, creds, { heartbeat: 2 });
  await device.waitForEvent("connected");
  await Bun.sleep(500); // past the awake window after HELLO
  const sentAt = performance.now();
  await mesh.send("sleepy", { kind: "digest" }, { priority: "low" });
  await Bun.sleep(700);
  expect(device.received).toHaveLength(0);
  await device.waitFor(1, 3000);
  const waited = performance.now() - sentAt;
  expect(device.received[0]?.priority).toBe("low");
  expect(waited).toBeGreaterThan(700);
  // The heartbeat that released it was about 2 s after WELCOME.
  await Bun.sleep(500);
  const before = performance.now();
  await mesh.send("sleepy", { kind: "alarm" }, { priority: "high" });
  await device.waitFor(2, 1000);
  expect(performance.now() - before).toBeLessThan(500);
  expect(device.received.map((m) => m.priority)).toEqual(["low", "high"]);
});

test("a high-priority message takes the held low ones with it, in order", async () => {
  await using mesh = await startTestMesh(config);
  const creds = await mesh.device("ordered");
  await using device = await connectDevice(mesh.ws, creds, { heartbeat: 30 });
  await device.waitForEvent("connected");
  await Bun.sleep(400);
  await mesh.send("ordered", { n: 1 }, { priority: "low" });
  await mesh.send("ordered", { n: 2 }, { priority: "low" });
  await Bun.sleep(300);
  expect(device.received).toHaveLength(0);
  await mesh.send("ordered", { n: 3 }, { priority: "high" });
  await device.waitFor(3, 2000);
  expect(device.received.map((m) => [m.seq, m.data])).toEqual([
    [1, { n: 1 }],
    [2, { n: 2 }],
    [3, { n: 3 }],
  ]);
});

test("a message replaced by a newer one with the same collapse key is never delivered", async () => {
  await using mesh = await startTestMesh(config);
  const creds = await mesh.device("scores");
  const first = await mesh.send("scores", { score: "1-0" }, { collapseKey: "match-7" });
  await mesh.send("scores", { other: true });
  const second = await mesh.send("scores", { score: "2-0" }, { collapseKey: "match-7" });
  const third = await mesh.send("scores", { score: "2-1" }, { collapseKey: "match-7" });
  await using device = await connectDevice(mesh.tcp, creds, { transport: "tcp" });
  await device.waitFor(2);
  await Bun.sleep(200);
  expect(device.received.map((m) => m.data)).toEqual([{ other: true }, { score: "2-1" }]);
  expect(device.received[1]?.collapseKey).toBe("match-7");
  for (const { messageId } of [first, second]) {
    const status = await mesh.api("GET", `/v1/messages/${messageId}`);
    expect(status.body.states).toMatchObject({ collapsed: 1, delivered: 0, pending: 0 });
  }
  expect((await mesh.api("GET", `/v1/messages/${third.messageId}`)).body.states.delivered).toBe(1);
});

test("held low-priority messages collapse too", async () => {
  await using mesh = await startTestMesh(config);
  const creds = await mesh.device("held");
  await using device = await connectDevice(mesh.ws, creds, { heartbeat: 2 });
  await device.waitForEvent("connected");
  await Bun.sleep(400);
  await mesh.send("held", { v: 1 }, { priority: "low", collapseKey: "badge" });
  await mesh.send("held", { v: 2 }, { priority: "low", collapseKey: "badge" });
  await device.waitFor(1, 4000);
  await Bun.sleep(300);
  expect(device.received.map((m) => m.data)).toEqual([{ v: 2 }]);
});
