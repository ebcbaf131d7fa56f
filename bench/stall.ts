// Stalled-reader benchmark: one TCP device stops reading while megabytes are pushed to it; the
// relay's buffer for it and the process's memory are reported against an idle baseline.
import type { Socket } from "bun";
import { type TcpConnect, tcpTransport } from "../core/client/transport.ts";
import { connectDevice, startTestMesh } from "../test-support/harness.ts";
import type { Headline } from "./headline.ts";

export type StallRun = { pushedBytes: number; bufferedBytes: number; paused: boolean; rssBeforeMiB: number; rssAfterMiB: number; deliveredAfterResume: number; messages: number };
export type StallResult = { stalled: StallRun; reading: StallRun };

/** The same pushes to a stalled and to a reading device, each in a fresh mesh: the RSS difference is the stall's cost. */
export async function runStall(quick: boolean): Promise<StallResult> {
  const stalled = await runOnce(quick, true);
  const reading = await runOnce(quick, false);
  return { stalled, reading };
}

async function runOnce(quick: boolean, stall: boolean): Promise<StallRun> {
  const messages = quick ? 1500 : 6000;
  const blob = "z".repeat(8000);
  await using mesh = await startTestMesh();
  const creds = await mesh.device("stalled");
  let socket: Socket | null = null;
  const connect: TcpConnect = async (o) => {
    const s = await Bun.connect(o as unknown as Parameters<typeof Bun.connect>[0]);
    socket = s as unknown as Socket;
    return s as never;
  };
  await using device = await connectDevice(mesh.tcp, creds, { transportFactory: tcpTransport(connect) });
  await device.waitForEvent("connected");
  if (stall) (socket as Socket | null)?.pause();
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < messages; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => mesh.send("stalled", { i: i + j, blob })));
  await Bun.sleep(500);
  Bun.gc(true);
  const rssAfter = process.memoryUsage().rss;
  const snapshot = mesh.relay.snapshot();
  (socket as Socket | null)?.resume();
  await device.waitFor(messages, 120_000);
  return {
    pushedBytes: messages * blob.length,
    bufferedBytes: snapshot.bufferedBytes,
    paused: snapshot.pausedSessions === 1,
    rssBeforeMiB: rssBefore / 2 ** 20,
    rssAfterMiB: rssAfter / 2 ** 20,
    deliveredAfterResume: device.received.length,
    messages,
  };
}

export function stallMarkdown(r: StallResult): string {
  const row = (name: string, x: StallRun) =>
    `| ${name} | ${(x.pushedBytes / 2 ** 20).toFixed(1)} MiB | ${(x.bufferedBytes / 1024).toFixed(0)} KiB | ${x.paused ? "yes" : "no"} | ${x.rssBeforeMiB.toFixed(0)} → ${x.rssAfterMiB.toFixed(0)} MiB (+${(x.rssAfterMiB - x.rssBeforeMiB).toFixed(0)}) | ${x.deliveredAfterResume} of ${x.messages} |`;
  return [
    "The whole mesh and the device run in one process, so RSS includes the edge, the store's page cache and the client; the reading run is the baseline.",
    "",
    "| device | data pushed | relay send buffer for it | paused | process RSS before → after | delivered |",
    "| --- | ---: | ---: | :---: | ---: | ---: |",
    row("stalled (stops reading, then reads again)", r.stalled),
    row("reading (baseline)", r.reading),
  ].join("\n");
}

export function stallHeadlines(r: StallResult): Headline[] {
  const x = r.stalled;
  return [
    {
      figure: "stalled reader: relay send buffer",
      measured: `${(x.bufferedBytes / 1024).toFixed(0)} KiB held of ${(x.pushedBytes / 2 ** 20).toFixed(1)} MiB pushed; ${x.deliveredAfterResume} of ${x.messages} delivered after`,
      baseline: `reading device: RSS +${(r.reading.rssAfterMiB - r.reading.rssBeforeMiB).toFixed(0)} MiB`,
      target: "buffer ≤ 1 MiB, nothing lost",
      met: x.bufferedBytes <= 2 ** 20 && x.deliveredAfterResume === x.messages,
    },
  ];
}
