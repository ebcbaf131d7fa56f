// A drain spreads a relay's devices over the other relays by weight and free room: each GOAWAY
// carries its own draw of the alternatives, and the SDK goes to the first one.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Drains `count` devices from relay-1 to two relays of the given weights; how many went to each. */
async function drainOver(weights: [number, number], count: number): Promise<Record<string, number>> {
  await using mesh = await startTestMesh({ drainRate: 1000, nodeReportMs: 100, connectBurstPerIp: 10_000 });
  await mesh.addRelay({ weight: weights[0] });
  await mesh.addRelay({ weight: weights[1] });
  const ids = Array.from({ length: count }, (_, i) => `spread-${i}`);
  const creds = await Promise.all(ids.map((id) => mesh.device(id)));
  const devices = await Promise.all(creds.map((c) => connectDevice(mesh.ws, c)));
  try {
    await Promise.all(devices.map((d) => d.waitForEvent("connected")));
    await until(() => mesh.relay.alternativeNodes.length === 2, "relay-1 to know both other relays");
    expect(await mesh.store.setNodeDraining("relay-1", true)).toBe(true);
    const moved = await Promise.all(devices.map((d) => d.waitForEvent("connected", 2, 30_000)));
    expect(await mesh.relay.waitDrained(5000)).toBe(true);
    const counts: Record<string, number> = { "relay-2": 0, "relay-3": 0 };
    for (const event of moved) counts[(event as { nodeId: string }).nodeId]! += 1;
    return counts;
  } finally {
    await Promise.all(devices.map((d) => d.client.stop()));
  }
}

// 200 devices, each going to relay-2 with probability p: Binomial(200, p). The bounds are more than
// 5.5 standard deviations from the mean (a chance below 1e-7 of failing with the draw working),
// and far from 0 or 200, which is what one shared order of alternatives gives.
test("a drain over two equal relays gives each a fair share", async () => {
  const counts = await drainOver([100, 100], 200);
  expect(counts["relay-2"]! + counts["relay-3"]!).toBe(200);
  expect(counts["relay-2"]).toBeGreaterThan(60); // mean 100, standard deviation 7.1
  expect(counts["relay-3"]).toBeGreaterThan(60);
}, 60_000);

test("a drain over relays weighted 3:1 splits by the weights", async () => {
  const counts = await drainOver([300, 100], 200);
  expect(counts["relay-2"]! + counts["relay-3"]!).toBe(200);
  expect(counts["relay-2"]).toBeGreaterThan(115); // mean 150, standard deviation 6.1
  expect(counts["relay-2"]).toBeLessThan(185);
}, 60_000);
