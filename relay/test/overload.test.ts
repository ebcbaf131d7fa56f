// Overload protection: past soft capacity the handshake slows, at hard capacity new devices are
// sent to alternatives, and one address cannot open connections faster than its rate.
import { expect, test } from "bun:test";
import { lengthPrefixed } from "../../core/codec.ts";
import { FrameType, PROTOCOL_VERSION, WireError } from "../../core/protocol.ts";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { frameBytes, rawTcp, rawWs } from "../../test-support/raw.ts";

const hello = (deviceId: string, token: string) =>
  frameBytes({ type: FrameType.HELLO, version: PROTOCOL_VERSION, deviceId, token, lastSeq: 0, heartbeat: 30, epoch: 0, topics: {} });

async function timeHandshake(ws: string, creds: { deviceId: string; token: string }): Promise<number> {
  const peer = await rawWs(ws);
  const started = performance.now();
  peer.send(hello(creds.deviceId, creds.token));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  const elapsed = performance.now() - started;
  peer.close();
  return elapsed;
}

test("past soft capacity the WELCOME is delayed in proportion to the excess; at capacity devices go elsewhere", async () => {
  // capacity 40 → one delay step per connection (2.5%); soft mark at 2; 100 ms per step.
  await using mesh = await startTestMesh({ capacity: 40, softCapacity: 2, softDelayMs: 100, nodeReportMs: 100 });
  const other = await mesh.addRelay({ nodeReportMs: 100 });
  const creds = await mesh.device("probe");
  const idle = await timeHandshake(mesh.ws, creds);
  const holders = await Promise.all(Array.from({ length: 6 }, () => rawTcp(mesh.tcp)));
  await Bun.sleep(50);
  // 6 open + the probe itself = 7 connections, 5 over the soft mark: about 500 ms.
  const loaded = await timeHandshake(mesh.ws, creds);
  expect(idle).toBeLessThan(100);
  expect(loaded).toBeGreaterThan(400);
  expect(loaded).toBeLessThan(1500);
  for (const h of holders) h.close();

  await using full = await startTestMesh({ capacity: 3, nodeReportMs: 100 });
  const elsewhere = await full.addRelay({ nodeReportMs: 100 });
  await Bun.sleep(250);
  const fillers = await Promise.all(Array.from({ length: 3 }, () => rawTcp(full.tcp)));
  const refused = await rawTcp(full.tcp);
  expect(await refused.nextFrame()).toMatchObject({
    type: FrameType.GOAWAY,
    reason: WireError.OVERLOADED.code,
    alternatives: [["relay-2", elsewhere.ws, elsewhere.tcp]],
  });
  await refused.closed;
  // The SDK follows the alternatives and is served there.
  const deviceCreds = await full.device("overflow");
  await using device = await connectDevice(full.ws, deviceCreds);
  await full.send("overflow", { served: "elsewhere" });
  await device.waitFor(1);
  expect(device.events.find((e) => e.type === "connected")).toMatchObject({ nodeId: "relay-2" });
  for (const f of fillers) f.close();
  void other;
});

test("one address opening connections faster than its rate gets RATE_LIMITED with a retry delay", async () => {
  await using mesh = await startTestMesh({ connectRatePerIp: 5, connectBurstPerIp: 3 });
  const peers = await Promise.all(Array.from({ length: 3 }, () => rawTcp(mesh.tcp)));
  const limited = await rawTcp(mesh.tcp);
  const frame = await limited.nextFrame();
  expect(frame).toMatchObject({ type: FrameType.GOAWAY, reason: WireError.RATE_LIMITED.code });
  expect((frame as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  await limited.closed;
  await Bun.sleep(250);
  const creds = await mesh.device("patient");
  const later = await rawTcp(mesh.tcp);
  later.send(lengthPrefixed(hello("patient", creds.token)));
  expect((await later.nextFrame()).type).toBe(FrameType.WELCOME);
  for (const p of [...peers, later]) p.close();
});
