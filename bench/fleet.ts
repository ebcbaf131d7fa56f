// The device side of the connection and throughput benchmarks: several device-swarm processes
// (each below its open-file limit), devices registered over the edge's HTTP API, and timed runs
// whose end is when the last swarm has counted every frame it expected.
import { join } from "node:path";
import { type Child, epochMs, spawnChild } from "./child-process.ts";
import type { SwarmConnect, SwarmDevice, SwarmStats } from "./device-swarm.ts";

const SWARM = join(import.meta.dir, "device-swarm.ts");

export type Creds = { deviceId: string; token: string };

/**
 * Registers devices over POST /v1/devices, `concurrency` requests at a time; tokens in the order of
 * `ids`. A failed request is retried (registering is idempotent), as a back end would.
 */
export async function registerDevices(edge: string, apiKey: string, ids: string[], concurrency = 32): Promise<Creds[]> {
  const out: Creds[] = new Array(ids.length);
  let next = 0;
  let retries = 0;
  const registerOne = async (deviceId: string): Promise<Creds> => {
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let body: unknown = null;
      try {
        const res = await fetch(`${edge}/v1/devices`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ deviceId }),
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        body = await res.json();
      } catch (error) {
        body = String(error);
      }
      if (status > 0 && status < 300) return { deviceId: (body as Creds).deviceId, token: (body as Creds).token };
      if ((status >= 400 && status < 500) || attempt >= 10) throw new Error(`registering ${deviceId}: ${status} ${JSON.stringify(body)}`);
      retries++;
      await Bun.sleep(100 * attempt);
    }
  };
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      out[i] = await registerOne(ids[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (retries > 0) process.stderr.write(`  registration: ${retries} requests failed or timed out and were retried\n`);
  return out;
}

export type ConnectResult = { connected: number; failed: number; errors: string[]; seconds: number };

export class Fleet {
  private readonly counts: number[];
  private forward: ((sum: number) => void) | null = null;
  private doneAt: (number | null)[] = [];
  private onDone: (() => void) | null = null;
  private run = 0;
  /** Devices each swarm holds, by the order they were handed out. */
  readonly assigned: SwarmDevice[][];

  private constructor(readonly swarms: Child[]) {
    this.counts = swarms.map(() => 0);
    this.assigned = swarms.map(() => []);
    swarms.forEach((s, i) => {
      s.on("progress", (m) => {
        if (m.run !== this.run) return;
        this.counts[i] = m.received as number;
        this.forward?.(this.counts.reduce((a, b) => a + b, 0));
      });
      s.on("done", (m) => {
        if (m.run !== this.run) return;
        this.doneAt[i] = m.at as number;
        this.counts[i] = m.received as number;
        this.forward?.(this.counts.reduce((a, b) => a + b, 0));
        if (this.doneAt.every((t) => t !== null)) this.onDone?.();
      });
    });
  }

  static async start(count: number): Promise<Fleet> {
    return new Fleet(await Promise.all(Array.from({ length: count }, (_, i) => spawnChild(`swarm-${i + 1}`, SWARM))));
  }

  /** Hands devices out round-robin in blocks and connects them all; every swarm works at once. */
  async connect(mode: SwarmConnect["mode"], ws: string, tcp: string, devices: SwarmDevice[]): Promise<ConnectResult> {
    const parts: SwarmDevice[][] = this.swarms.map(() => []);
    devices.forEach((d, i) => parts[i % this.swarms.length]!.push(d));
    const started = performance.now();
    const results = await Promise.all(
      this.swarms.map((s, i) => {
        this.assigned[i]!.push(...parts[i]!);
        return s.request<{ connected: number; failed: number; errors: string[] }>("connect", { mode, ws, tcp, devices: parts[i] });
      }),
    );
    return {
      connected: results.reduce((a, r) => a + r.connected, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * Times one run: each swarm expects `expected(i)` frames; `start` sets the server going.
   * Progress goes to `server` for flow control. Ends when the last swarm has all its frames.
   */
  async timed(server: Child, expected: (swarm: number) => number, start: () => Promise<unknown>): Promise<{ seconds: number; frames: number }> {
    this.run++;
    this.counts.fill(0);
    this.doneAt = this.swarms.map(() => null);
    this.forward = (sum) => server.notify("progress", { received: sum });
    const totals = this.swarms.map((_, i) => expected(i));
    const allDone = new Promise<void>((resolve) => {
      this.onDone = resolve;
    });
    await Promise.all(this.swarms.map((s, i) => s.request("expect", { total: totals[i], run: this.run })));
    const startedAt = epochMs();
    await start();
    await allDone;
    this.forward = null;
    const end = Math.max(...(this.doneAt as number[]));
    return { seconds: (end - startedAt) / 1000, frames: totals.reduce((a, b) => a + b, 0) };
  }

  async stats(): Promise<SwarmStats> {
    const all = await Promise.all(this.swarms.map((s) => s.request<SwarmStats>("stats")));
    const sum = (k: keyof SwarmStats) => all.reduce((a, s) => a + s[k], 0);
    return {
      devices: sum("devices"),
      connected: sum("connected"),
      pushes: sum("pushes"),
      topicPushes: sum("topicPushes"),
      outOfOrder: sum("outOfOrder"),
      closedByServer: sum("closedByServer"),
      acksSent: sum("acksSent"),
      cpuSeconds: sum("cpuSeconds"),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.swarms.map((s) => s.request("close", {}, 10_000).catch(() => undefined)));
    await Promise.all(this.swarms.map((s) => s.kill()));
  }
}

/** Devices alternating between WebSocket and TCP, so each transport carries half. */
export function mixedDevices(creds: Creds[]): SwarmDevice[] {
  return creds.map((c, i) => ({ ...c, transport: i % 2 === 0 ? "ws" : "tcp" }));
}

/** CPU seconds a child used between two `cpu` answers. */
export const cpuDelta = (a: { user: number; system: number }, b: { user: number; system: number }): number => (b.user + b.system - a.user - a.system) / 1e6;
