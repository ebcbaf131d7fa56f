// /metrics on the edge: requests by route template and status with their latency, the store's
// group commits, the scheduler's waiting targets; in one process the relay's metrics too. No app,
// device or key appears in a label.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

const sample = (text: string, line: RegExp): number => Number(text.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? Number.NaN);

test("the edge's /metrics counts requests by route, store writes, waiting targets and the relay's frames", async () => {
  await using mesh = await startTestMesh();
  await mesh.device("m");
  const { messageId } = await mesh.send("m", { n: 1 });
  await mesh.send("m", { later: true }, { delay: 3600 });
  expect((await mesh.api("GET", `/v1/messages/${messageId}`)).status).toBe(200);
  expect((await mesh.api("GET", "/v1/messages/not-a-uuid")).status).toBe(400);

  const res = await fetch(`${mesh.edge}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain");
  const text = await res.text();
  expect(sample(text, /^pushmesh_http_requests_total\{route="\/v1\/messages\/\{id\}",method="GET",status="200"/)).toBe(1);
  expect(sample(text, /^pushmesh_http_requests_total\{route="\/v1\/messages\/\{id\}",method="GET",status="400"/)).toBe(1);
  expect(sample(text, /^pushmesh_http_requests_total\{route="\/v1\/messages",method="POST",status="202"/)).toBe(2);
  expect(sample(text, /^pushmesh_http_request_duration_seconds_count\{route="\/v1\/messages",method="POST"/)).toBe(2);
  expect(sample(text, /^pushmesh_store_group_commit_writes_sum/)).toBeGreaterThanOrEqual(2);
  expect(sample(text, /^pushmesh_store_write_seconds_count/)).toBeGreaterThanOrEqual(1);
  expect(sample(text, /^pushmesh_scheduler_waiting_targets/)).toBe(1);
  expect(text).toContain("pushmesh_frames_total");
  for (const secret of [mesh.appId, messageId, mesh.apiKey, "not-a-uuid"]) expect(text).not.toContain(secret);
});
