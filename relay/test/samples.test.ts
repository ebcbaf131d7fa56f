// A running relay writes its minute's figures for the dashboard (GET /v1/nodes/samples): what it
// pushed and had acknowledged, and the acks' latency.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

test("a relay's sample shows the pushes and acks of its minute", async () => {
  await using mesh = await startTestMesh({ relaySampleMs: 100 });
  const phone = await mesh.device("phone");
  await using session = await connectDevice(mesh.ws, phone);
  for (let i = 0; i < 3; i++) await mesh.send("phone", { i });
  await session.waitFor(3);
  type Series = { nodeId: string; samples: { pushed: number; delivered: number; p99Ms: number | null }[] };
  const totals = async () => {
    const res = await mesh.api("GET", "/v1/nodes/samples?minutes=5", undefined, mesh.operatorKey);
    const relay = (res.body.relays as Series[]).find((r) => r.nodeId === "relay-1");
    return (relay?.samples ?? []).reduce((t, s) => ({ pushed: t.pushed + s.pushed, delivered: t.delivered + s.delivered }), { pushed: 0, delivered: 0 });
  };
  const deadline = Date.now() + 20_000;
  let seen = await totals();
  while (seen.delivered < 3 && Date.now() < deadline) {
    await Bun.sleep(50);
    seen = await totals();
  }
  expect(seen).toEqual({ pushed: 3, delivered: 3 });
});
