// Fallback benchmark: messages to devices without a socket go out by Web Push at a steady rate;
// the delay from the message falling due to the push service's receipt, and a connected device's
// socket latency in the same run: alone (baseline), beside the fallbacks, and beside fallbacks to
// a push service that never answers. The mesh runs as `pushmesh dev` in its own process; this
// process is the load, the device and the push service (TLS, decrypting every payload).
import { MemoryStateStore, PushClient } from "../core/client/client.ts";
import { webSocketTransport } from "../core/client/transport.ts";
import { join } from "node:path";
import { tempDir } from "../test-support/harness.ts";
import { startDev } from "../test-support/process.ts";
import { startWebPushReceiver } from "../test-support/receivers/web-push-receiver.ts";
import type { Headline } from "./headline.ts";

type Spread = { count: number; p50: number; p99: number; max: number };
export type FallbackResult = { rate: number; seconds: number; delay: Spread; delivered: number; sent: number; socket: { alone: Spread; beside: Spread; providerDown: Spread } };

const spread = (values: number[]): Spread => {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? Number.NaN };
};
const now = () => performance.timeOrigin + performance.now();

export async function runFallback(quick: boolean): Promise<FallbackResult> {
  const rate = quick ? 200 : 1000;
  const seconds = quick ? 2 : 5;
  await using pushService = await startWebPushReceiver();
  using dir = tempDir();
  const dev = await startDev(join(dir.path, "mesh.db"), ["--provider-ca-file", pushService.caFile, "--fallback-poll-ms", "100", "--provider-timeout-ms", "2000", "--rate-limit-requests", "10000000"]);
  const mesh = meshOf(dev.ready);
  const made = await mesh.api("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:bench@example.com" });
  pushService.expectVapidKey(made.body.shown.vapidPublicKey);
  const away = Array.from({ length: 200 }, (_, i) => `away-${i}`);
  for (const deviceId of away) {
    await mesh.device(deviceId);
    await mesh.api("PUT", `/v1/devices/${deviceId}/channels`, { endpoints: [pushService.subscribe()] });
  }
  const socket = await socketProbe(mesh);
  try {
    const alone = await socket.measure(seconds * 1000);
    const dueAt = new Map<string, number>();
    const sending = sendAt(mesh, rate, seconds * 1000, async (i) => {
      const at = now();
      const res = await mesh.api("POST", "/v1/messages", { to: { deviceId: away[i % away.length] }, data: { i }, fallback: { after: 0, channels: ["webpush"] } });
      if (res.status === 202) dueAt.set(res.body.messageId, at);
    });
    const beside = await socket.measure(seconds * 1000);
    await sending;
    const deadline = Date.now() + 60_000;
    while (pushService.accepted.length < dueAt.size && Date.now() < deadline) await Bun.sleep(50);
    const delays = pushService.accepted.flatMap((a) => (dueAt.has(a.notification.messageId) ? [a.at - dueAt.get(a.notification.messageId)!] : []));
    pushService.setDelay(Infinity);
    const hanging = sendAt(mesh, rate / 4, seconds * 1000, (i) => mesh.api("POST", "/v1/messages", { to: { deviceId: away[i % away.length] }, data: { i }, fallback: { after: 0, channels: ["webpush"] } }));
    const providerDown = await socket.measure(seconds * 1000);
    await hanging;
    return { rate, seconds, delay: spread(delays), delivered: delays.length, sent: dueAt.size, socket: { alone, beside, providerDown } };
  } finally {
    await socket.stop();
    await dev[Symbol.asyncDispose]();
  }
}

type Mesh = { ws: string; api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>; device(id: string): Promise<{ deviceId: string; token: string }> };

function meshOf(ready: { edge: string; ws: string; apiKey: string }): Mesh {
  const api: Mesh["api"] = async (method, path, body) => {
    const res = await fetch(`${ready.edge}${path}`, { method, headers: { authorization: `Bearer ${ready.apiKey}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return { ws: ready.ws, api, device: async (deviceId) => (await api("POST", "/v1/devices", { deviceId })).body };
}

/** Calls `send(i)` at `perSecond` for `ms` (open loop); resolves when every call has. */
async function sendAt(_mesh: Mesh, perSecond: number, ms: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const calls: Promise<unknown>[] = [];
  const start = performance.now();
  for (let i = 0; performance.now() - start < ms; i++) {
    const wait = start + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    calls.push(send(i).catch(() => undefined));
  }
  await Promise.all(calls);
}

/** A connected device and a sender at 100/s: accept → receive on the socket. */
async function socketProbe(mesh: Mesh) {
  const creds = await mesh.device("online");
  const sentAt = new Map<number, number>();
  let latencies: number[] = [];
  const client = new PushClient({
    deviceId: "online",
    token: creds.token,
    addresses: [mesh.ws],
    transport: webSocketTransport(),
    state: new MemoryStateStore(),
    onMessage: (m) => {
      const at = sentAt.get((m.data as { n: number }).n);
      if (at !== undefined) latencies.push(now() - at);
    },
  });
  await client.start();
  let n = 0;
  return {
    async measure(ms: number): Promise<Spread> {
      latencies = [];
      await sendAt(mesh, 100, ms, async () => {
        const id = n++;
        sentAt.set(id, now());
        await mesh.api("POST", "/v1/messages", { to: { deviceId: "online" }, data: { n: id } });
      });
      await Bun.sleep(500);
      return spread(latencies);
    },
    stop: () => client.stop(),
  };
}

export function fallbackMarkdown(r: FallbackResult): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const row = (name: string, s: Spread) => `| ${name} | ${s.count} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`;
  return [
    `The mesh as \`pushmesh dev\` (libSQL file) in its own process; in the benchmark's process, the load, the connected device and a Web Push service over TLS that checks the VAPID JWT and decrypts every payload. ${r.rate} fallbacks/s for ${r.seconds} s to 200 devices without a socket (\`after: 0\`, so each is due when it is accepted), and a connected device sent 100 messages/s throughout.`,
    "",
    `Fallback delay, accepted (due) → the push service has it: ${r.delivered} of ${r.sent} delivered; p50 ${ms(r.delay.p50)}, **p99 ${ms(r.delay.p99)}**, max ${ms(r.delay.max)}.`,
    "",
    "| socket delivery, accept → receive | messages | p50 | p99 | max |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("alone (baseline)", r.socket.alone),
    row(`beside ${r.rate} fallbacks/s`, r.socket.beside),
    row(`beside ${r.rate / 4} fallbacks/s to a push service that never answers`, r.socket.providerDown),
  ].join("\n");
}

export function fallbackHeadlines(r: FallbackResult): Headline[] {
  return [
    {
      figure: `fallback delay at ${r.rate}/s (due → provider request), p99`,
      measured: `${r.delay.p99.toFixed(0)} ms (${r.delivered} of ${r.sent})`,
      baseline: "–",
      target: "≤ after + 1 s",
      met: r.delay.p99 <= 1000 && r.delivered === r.sent,
    },
    {
      figure: `socket p50 / p99 beside ${r.rate / 4} fallbacks/s to a push service that never answers`,
      measured: `${r.socket.providerDown.p50.toFixed(1)} / ${r.socket.providerDown.p99.toFixed(1)} ms`,
      baseline: `alone: ${r.socket.alone.p50.toFixed(1)} / ${r.socket.alone.p99.toFixed(1)} ms`,
      target: "unchanged (p99 ≤ 1.2× alone)",
      met: r.socket.providerDown.p99 <= 1.2 * r.socket.alone.p99,
    },
    {
      figure: `socket p50 / p99 beside ${r.rate} fallbacks/s to a push service that answers`,
      measured: `${r.socket.beside.p50.toFixed(1)} / ${r.socket.beside.p99.toFixed(1)} ms`,
      baseline: `alone: ${r.socket.alone.p50.toFixed(1)} / ${r.socket.alone.p99.toFixed(1)} ms`,
      target: "unchanged (p99 ≤ 1.2× alone)",
      met: r.socket.beside.p99 <= 1.2 * r.socket.alone.p99,
    },
  ];
}
