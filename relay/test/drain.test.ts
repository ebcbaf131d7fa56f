// Draining a relay: its devices are sent to another relay in paced waves and resume there by
// sequence; nothing sent during the drain is lost or delivered twice.
import { expect, test } from "bun:test";
import { WireError } from "../../core/protocol.ts";
import { connectDevice, startTestMesh, type TestDevice } from "../../test-support/harness.ts";
import { rawWs } from "../../test-support/raw.ts";

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("draining a relay with 300 devices moves them all to another relay with no loss or duplicate", async () => {
  await using mesh = await startTestMesh({ drainRate: 1000, nodeReportMs: 200, connectBurstPerIp: 10_000 });
  const other = await mesh.addRelay();
  const ids = Array.from({ length: 300 }, (_, i) => `drain-${i}`);
  const creds = await Promise.all(ids.map((id) => mesh.device(id)));
  const devices: TestDevice[] = await Promise.all(creds.map((c, i) => connectDevice(mesh.ws, c, i % 2 ? {} : { addresses: [mesh.ws] })));
  await Promise.all(devices.map((d) => d.waitForEvent("connected")));
  expect(mesh.relay.connections.ws).toBe(300);
  await until(() => mesh.relay.alternativeNodes.includes("relay-2"), "relay-1 to know relay-2");

  await mesh.send(ids, { n: 1 });
  const started = performance.now();
  expect(await mesh.store.setNodeDraining("relay-1", true)).toBe(true);
  // Sends keep coming while devices move.
  for (let n = 2; n <= 10; n++) {
    await mesh.send(ids, { n });
    await Bun.sleep(40);
  }
  await Promise.all(devices.map((d) => d.waitForEvent("connected", 2, 15_000)));
  expect(await mesh.relay.waitDrained(5000)).toBe(true);
  const drainMs = performance.now() - started;
  expect(mesh.relay.drainState).toBe("drained");
  expect(other.relay.connections.ws).toBe(300);

  await Promise.all(devices.map((d) => d.waitFor(10, 15_000)));
  await Bun.sleep(300);
  for (const d of devices) {
    expect(d.received.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const goaway = d.events.find((e) => e.type === "goaway");
    expect(goaway).toMatchObject({ reason: WireError.NODE_DRAINING.code, alternatives: [other.ws] });
    expect(d.events.filter((e) => e.type === "connected").at(-1)).toMatchObject({ nodeId: "relay-2" });
  }
  // The edge stops listing a draining node.
  const nodes = (await (await fetch(`${mesh.edge}/v1/nodes`)).json()) as { nodes: { id: string }[] };
  expect(nodes.nodes.map((n) => n.id)).toEqual(["relay-2"]);
  console.log(`drain of 300 devices at 1000/s took ${drainMs.toFixed(0)} ms`);
  await Promise.all(devices.map((d) => d.client.stop()));
}, 60_000);

test("a draining relay refuses new connections with alternatives; undrain serves again", async () => {
  await using mesh = await startTestMesh({ nodeReportMs: 100 });
  const other = await mesh.addRelay({ nodeReportMs: 100 });
  await until(() => mesh.relay.alternativeNodes.includes("relay-2"), "relay-1 to know relay-2");
  await mesh.store.setNodeDraining("relay-1", true);
  await until(() => mesh.relay.drainState !== "serving", "relay-1 to see its drain flag");
  const refused = await rawWs(mesh.ws);
  const frame = await refused.nextFrame();
  expect(frame).toMatchObject({ reason: WireError.NODE_DRAINING.code, alternatives: [["relay-2", other.ws, other.tcp]] });
  expect((await refused.closed).code).toBe(WireError.NODE_DRAINING.code);
  const ready = await fetch(`${mesh.ws.replace("ws://", "http://")}/readyz`);
  expect(ready.status).toBe(503);

  await mesh.store.setNodeDraining("relay-1", false);
  await until(() => mesh.relay.drainState === "serving", "relay-1 to serve again");
  const creds = await mesh.device("after-undrain");
  await using device = await connectDevice(mesh.ws, creds);
  await mesh.send("after-undrain", { ok: true });
  await device.waitFor(1);
});

test("stopping with a grace period drains devices to another relay and writes pending acks", async () => {
  await using mesh = await startTestMesh({ nodeReportMs: 100, ackFlushMs: 5000 });
  const other = await mesh.addRelay({ nodeReportMs: 100 });
  await until(() => mesh.relay.alternativeNodes.includes("relay-2"), "relay-1 to know relay-2");
  const creds = await mesh.device("graceful");
  await using device = await connectDevice(mesh.ws, creds);
  const { messageId } = await mesh.send("graceful", { before: "shutdown" });
  await device.waitFor(1);
  await until(() => mesh.relay.snapshot().pendingAcks === 1, "the ack to reach the relay"); // it sits in its 5 s batch
  await mesh.relay.stop(2000);
  expect((await mesh.api("GET", `/v1/messages/${messageId}`)).body.states.delivered).toBe(1);
  await device.waitForEvent("connected", 2, 5000);
  expect(device.events.at(-1)).toMatchObject({ type: "connected", nodeId: "relay-2" });
  expect(other.relay.connections.ws).toBe(1);
});
