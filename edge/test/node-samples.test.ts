// The relays' minute samples over HTTP: per relay and per region, for operators only.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("GET /v1/nodes/samples answers each relay's and each region's last hour, for operators only", async () => {
  await using mesh = await startTestMesh();
  const minute = Date.now() - (Date.now() % 60_000) - 60_000;
  const old = minute - 90 * 60_000;
  const sample = (nodeId: string, region: string, at: number, pushed: number, p50Ms: number | null, p99Ms: number | null) =>
    ({ nodeId, region, at, pushed, delivered: pushed, p50Ms, p99Ms });
  await mesh.store.recordRelaySample(sample("eu-1", "eu", old, 50, 1, 2), 0);
  await mesh.store.recordRelaySample(sample("eu-1", "eu", minute, 4, 10, 40), 0);
  await mesh.store.recordRelaySample(sample("eu-2", "eu", minute, 6, 20, 90), 0);
  await mesh.store.recordRelaySample(sample("us-1", "us", minute, 1, null, null), 0);

  const res = await mesh.api("GET", "/v1/nodes/samples", undefined, mesh.operatorKey);
  expect(res.status).toBe(200);
  const point = (pushed: number, p50Ms: number | null, p99Ms: number | null) => ({ at: minute, pushed, delivered: pushed, p50Ms, p99Ms });
  expect(res.body).toEqual({
    relays: [
      { nodeId: "eu-1", region: "eu", samples: [point(4, 10, 40)] },
      { nodeId: "eu-2", region: "eu", samples: [point(6, 20, 90)] },
      { nodeId: "us-1", region: "us", samples: [point(1, null, null)] },
    ],
    regions: [
      { region: "eu", samples: [point(10, 10, 90)] },
      { region: "us", samples: [point(1, null, null)] },
    ],
  });
  const twoHours = await mesh.api("GET", "/v1/nodes/samples?minutes=120", undefined, mesh.operatorKey);
  expect(twoHours.body.relays[0].samples.map((s: { pushed: number }) => s.pushed)).toEqual([50, 4]);
  expect((await mesh.api("GET", "/v1/nodes/samples")).status).toBe(403);
});
