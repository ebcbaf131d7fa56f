// /metrics, /healthz and /readyz on the relay.
import { expect, test } from "bun:test";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";
import { rawWs } from "../../test-support/raw.ts";

function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : Number.NaN;
}

test("metrics count connections, frames, pushes, acks, latency and errors", async () => {
  await using mesh = await startTestMesh();
  const http = mesh.ws.replace("ws://", "http://");
  const creds = await mesh.device("measured");
  await using device = await connectDevice(mesh.tcp, creds, { transport: "tcp" });
  for (let n = 0; n < 3; n++) await mesh.send("measured", { n });
  await device.waitFor(3);
  await Bun.sleep(100);
  const bad = await rawWs(mesh.ws);
  bad.send(new Uint8Array([0x83, 0x01])); // truncated CBOR
  await bad.closed;

  const res = await fetch(`${http}/metrics`);
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  expect(sample(text, "pushmesh_connections", 'transport="tcp"')).toBe(1);
  expect(sample(text, "pushmesh_frames_total", 'direction="out",type="PUSH"')).toBe(3);
  expect(sample(text, "pushmesh_frames_total", 'direction="in",type="HELLO"')).toBe(1);
  expect(sample(text, "pushmesh_frames_total", 'direction="in",type="ACK"')).toBeGreaterThanOrEqual(1);
  expect(sample(text, "pushmesh_delivery_latency_seconds_count", "")).toBe(3);
  expect(sample(text, "pushmesh_errors_total", 'code="MALFORMED_FRAME"')).toBe(1);
  expect(sample(text, "pushmesh_heartbeat_interval_seconds_count", "")).toBe(1);
  expect(sample(text, "pushmesh_drain_state", "")).toBe(0);
  expect(text).toContain("pushmesh_send_buffer_bytes");
  const pushBytes = sample(text, "pushmesh_frame_bytes_total", 'direction="out",type="PUSH"');
  expect(pushBytes).toBeGreaterThan(3 * 20);

  // Frame counts are copied in at each scrape: a second scrape shows the new total, not a sum of scrapes.
  await mesh.send("measured", { n: 3 });
  await device.waitFor(4);
  const again = await (await fetch(`${http}/metrics`)).text();
  expect(sample(again, "pushmesh_frames_total", 'direction="out",type="PUSH"')).toBe(4);
  const grown = sample(again, "pushmesh_frame_bytes_total", 'direction="out",type="PUSH"');
  expect(grown).toBeGreaterThan(pushBytes);
  expect(grown).toBeLessThan(pushBytes * 2);

  expect(await (await fetch(`${http}/healthz`)).json()).toEqual({ ok: true });
  expect(await (await fetch(`${http}/readyz`)).json()).toEqual({ ready: true, drainState: "serving" });
});
