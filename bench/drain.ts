// Drain benchmark: a relay holding N devices is drained while sends continue; how long until it
// holds none, until every device is served elsewhere, and how many messages were lost or doubled.
import { connectDevice, startTestMesh, type TestDevice } from "../test-support/harness.ts";
import type { Headline } from "./headline.ts";

export type DrainResult = { devices: number; rate: number; drainedMs: number; allBackMs: number; messages: number; lost: number; duplicated: number };

export async function runDrain(quick: boolean): Promise<DrainResult> {
  const n = quick ? 200 : 2000;
  const rate = quick ? 2000 : 1000;
  await using mesh = await startTestMesh({ drainRate: rate, nodeReportMs: 200, connectBurstPerIp: 1_000_000, connectRatePerIp: 1_000_000 });
  await mesh.addRelay();
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const creds: { deviceId: string; token: string }[] = [];
  for (let i = 0; i < n; i += 200) creds.push(...(await Promise.all(ids.slice(i, i + 200).map((id) => mesh.device(id)))));
  const devices: TestDevice[] = [];
  for (let i = 0; i < n; i += 200) devices.push(...(await Promise.all(creds.slice(i, i + 200).map((c) => connectDevice(mesh.ws, c)))));
  await Promise.all(devices.map((d) => d.waitForEvent("connected", 1, 60_000)));
  await Bun.sleep(400);
  process.stderr.write(`  ${n} devices connected; draining at ${rate}/s while sending\n`);

  const rounds = 10;
  await mesh.send(ids.slice(0, 1000), { n: 0 }).catch(() => null);
  const started = performance.now();
  await mesh.store.setNodeDraining("relay-1", true);
  const sending = (async () => {
    for (let r = 1; r <= rounds; r++) {
      for (let i = 0; i < n; i += 1000) await mesh.send(ids.slice(i, i + 1000), { n: r });
      await Bun.sleep(50);
    }
  })();
  await mesh.relay.waitDrained(120_000);
  const drainedMs = performance.now() - started;
  await Promise.all(devices.map((d) => d.waitForEvent("connected", 2, 120_000)));
  const allBackMs = performance.now() - started;
  await sending;
  await Promise.all(devices.map((d) => d.waitFor(rounds, 60_000).catch(() => undefined)));
  await Bun.sleep(500);
  let lost = 0;
  let duplicated = 0;
  for (const d of devices) {
    const got = d.received.map((m) => (m.data as { n: number }).n).filter((x) => x > 0);
    const unique = new Set(got);
    duplicated += got.length - unique.size;
    for (let r = 1; r <= rounds; r++) if (!unique.has(r)) lost++;
  }
  await Promise.all(devices.map((d) => d.client.stop()));
  return { devices: n, rate, drainedMs, allBackMs, messages: n * rounds, lost, duplicated };
}

export function drainMarkdown(r: DrainResult): string {
  return [
    "| devices | drain rate (/s) | relay empty after | all served elsewhere after | messages sent during drain | lost | duplicated to the app |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${r.devices} | ${r.rate} | ${r.drainedMs.toFixed(0)} ms | ${r.allBackMs.toFixed(0)} ms | ${r.messages} | ${r.lost} | ${r.duplicated} |`,
  ].join("\n");
}

export function drainHeadlines(r: DrainResult): Headline[] {
  return [
    { figure: `drain, ${r.devices} devices at ${r.rate}/s: relay empty`, measured: `${(r.drainedMs / 1000).toFixed(1)} s`, baseline: "–", target: "–", met: null },
    { figure: "drain: lost / duplicated", measured: `${r.lost} / ${r.duplicated}`, baseline: "–", target: "0 / 0", met: r.lost === 0 && r.duplicated === 0 },
  ];
}
