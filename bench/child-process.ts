// Benchmark processes: the parent spawns Bun children and talks to them over IPC. A request
// carries an id and gets one reply; a child may also emit events (progress, done) at any time.
// Servers and device swarms run in children so the process that measures is never the one that
// is busy, and so no process holds more sockets than its open-file limit allows.
import type { Subprocess } from "bun";
import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Event = { event: string; [k: string]: unknown };

export type Child = {
  name: string;
  pid: number;
  proc: Subprocess;
  /** The fields of the child's `ready` event. */
  ready: Record<string, unknown>;
  request<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Sends a message that gets no reply (e.g. flow-control progress). */
  notify(cmd: string, args?: Record<string, unknown>): void;
  on(event: string, handler: (message: Event) => void): void;
  /** Resident set size from /proc, without asking the child (works while it is busy). */
  rss(): number;
  kill(signal?: NodeJS.Signals): Promise<void>;
};

export async function spawnChild(name: string, script: string, args: string[] = [], timeoutMs = 60_000): Promise<Child> {
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const handlers = new Map<string, ((m: Event) => void)[]>();
  let readyResolve!: (m: Event) => void;
  let readyReject!: (e: Error) => void;
  const readyPromise = new Promise<Event>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  // BENCH_CPU_PROF=<child name prefix> profiles that child (markdown profile in BENCH_CPU_PROF_DIR, default /tmp).
  const profile = process.env.BENCH_CPU_PROF && name.startsWith(process.env.BENCH_CPU_PROF) ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR ?? "/tmp"}`] : [];
  const proc = Bun.spawn([process.execPath, ...profile, script, ...args], {
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
    serialization: "json",
    ipc(message: Reply | Event) {
      if ("event" in message) {
        if (message.event === "ready") readyResolve(message);
        for (const h of handlers.get(message.event) ?? []) h(message);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    },
  });
  void proc.exited.then((code) => {
    const error = new Error(`${name} exited (${code ?? proc.signalCode})`);
    readyReject(error);
    for (const w of pending.values()) w.reject(error);
    pending.clear();
  });
  const timer = setTimeout(() => readyReject(new Error(`${name} was not ready within ${timeoutMs} ms`)), timeoutMs);
  const ready = await readyPromise.finally(() => clearTimeout(timer));
  let nextId = 1;
  return {
    name,
    pid: proc.pid,
    proc,
    ready,
    request<T>(cmd: string, args: Record<string, unknown> = {}, requestTimeoutMs = 600_000) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: '${cmd}' got no answer within ${requestTimeoutMs} ms`));
        }, requestTimeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(t), resolve(v as T)),
          reject: (e) => (clearTimeout(t), reject(e)),
        });
        proc.send({ id, cmd, ...args });
      });
    },
    notify(cmd, args = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.send({ cmd, ...args });
    },
    on(event, handler) {
      handlers.set(event, [...(handlers.get(event) ?? []), handler]);
    },
    rss: () => rssOf(proc.pid),
    async kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await proc.exited;
    },
  };
}

/** VmRSS of a process in bytes, read from /proc (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

type Handler = (args: Record<string, any>) => unknown;

/** The child's side: answers the parent's requests with `handlers`, and says it is ready. */
export function serveParent(handlers: Record<string, Handler>, ready: Record<string, unknown> = {}): { emit(event: string, data?: Record<string, unknown>): void } {
  const send = (m: unknown) => process.send?.(m);
  process.on("message", (message: { id?: number; cmd: string; [k: string]: unknown }) => {
    const handler = handlers[message.cmd];
    if (message.id === undefined) {
      // A notification: no reply, errors only logged.
      try {
        void handler?.(message);
      } catch (error) {
        process.stderr.write(`${message.cmd}: ${String(error)}\n`);
      }
      return;
    }
    const id = message.id;
    if (!handler) return send({ id, ok: false, error: `unknown command '${message.cmd}'` });
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (result) => send({ id, ok: true, result: result ?? null }),
        (error: unknown) => send({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The parent gone means the benchmark is over, whatever happened to it. Exiting (rather than
  // dying of the signal) lets a profiler write its file.
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
  send({ event: "ready", ...ready });
  return { emit: (event, data = {}) => send({ event, ...data }) };
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** CPU seconds (user + system) this process has used. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export type Memory = { rss: number; heap: number; heapCapacity: number; extra: number; objects: Record<string, number> };

/** Collects garbage twice, then reads this process's RSS, its JS heap (live, reserved, and memory outside it that JS objects own) and live objects by type. */
export async function collectAndMeasure(): Promise<Memory> {
  Bun.gc(true);
  await Bun.sleep(100);
  Bun.gc(true);
  const stats = heapStats();
  // BENCH_HEAP_SNAPSHOT=<dir>: also writes the heap (JSC's snapshot format) there, to see what the objects are.
  if (process.env.BENCH_HEAP_SNAPSHOT) await Bun.write(`${process.env.BENCH_HEAP_SNAPSHOT}/heap-${process.pid}-${Date.now()}.json`, JSON.stringify(Bun.generateHeapSnapshot()));
  return { rss: process.memoryUsage().rss, heap: stats.heapSize, heapCapacity: stats.heapCapacity, extra: stats.extraMemorySize, objects: stats.objectTypeCounts };
}

/** CPU seconds (user + system) another process has used, from /proc (Linux's 100 ticks per second). */
export function cpuOfPid(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Busy and total CPU time of the whole machine (all cores, all processes, ours and others'), in ticks. */
export function machineTicks(): { busy: number; total: number } {
  const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU (all cores) that was busy between two `machineTicks` readings. */
export const busyShare = (a: { busy: number; total: number }, b: { busy: number; total: number }): number => (b.busy - a.busy) / Math.max(1, b.total - a.total);

/**
 * What code and what machine state a figure comes from: the commit, whether the server code had
 * uncommitted changes (others may be editing the same checkout), and the 1-minute load average.
 */
const SERVER_CODE = ["core", "relay", "edge", "store", "engines", "ops"];

export function runContext(): string {
  const git = (...args: string[]) => new TextDecoder().decode(Bun.spawnSync(["git", ...args], { cwd: import.meta.dir }).stdout).trim();
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", ...SERVER_CODE.map((d) => `../${d}`)) !== "";
  return `Measured at commit ${commit}${dirty ? ` with uncommitted changes in ${SERVER_CODE.map((d) => `${d}/`).join(", ")}` : ""}; load average ${loadavg()[0]!.toFixed(1)} at the start.`;
}
