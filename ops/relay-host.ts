// A relay host: `pushmesh relay` as N worker processes that share the host's WebSocket and TCP
// ports (SO_REUSEPORT: Linux spreads new connections over the workers), each with its own
// sessions and registered as a sibling node `<node-id>.w<i>`; ranking treats siblings (same
// address) as one host. The host supervises them: a worker that exits is started again, and its
// devices reconnect to the same address, where the kernel hands them to the live workers; they
// resume from the store by sequence, so nothing is lost. SIGTERM drains every worker.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Config } from "../core/config.ts";
import type { Log } from "../core/log.ts";
import { CliError } from "./commands/errors.ts";
import { runRelayProcess } from "./processes.ts";

const WORKER = join(import.meta.dir, "relay-worker.ts");
/** A worker that ran less than this long before exiting waits longer each time before its restart. */
const STABLE_MS = 10_000;
const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 10_000;
const READY_TIMEOUT_MS = 60_000;

/** Workers of a host: `--workers`, or one per core; one with the memory engine (its presence and signals live in one process). */
export function workerCount(config: Config, cores = availableParallelism()): number {
  if (config.engine === "memory") {
    if (config.workers > 1) {
      throw new CliError(
        "INVALID_ARGUMENT",
        `--workers ${config.workers} needs a shared engine: the memory engine keeps presence and signals in one process, so it runs one worker; use --engine redis --redis-url URL`,
      );
    }
    return 1;
  }
  return config.workers > 0 ? config.workers : cores;
}

export const workerNodeId = (hostId: string, index: number): string => `${hostId}.w${index}`;

type WorkerReady = { nodeId: string; ws: string; tcp: string; wsPort: number; tcpPort: number; pid: number };

type Worker = { index: number; nodeId: string; proc: Subprocess<"pipe", "pipe", "inherit"> | null; startedAt: number; restartMs: number };

export async function runRelayHost(config: Config, log: Log): Promise<void> {
  const count = workerCount(config);
  if (count === 1) return runRelayProcess(config, log);
  const capacity = Math.ceil(config.capacity / count);
  let ports = { wsPort: config.wsPort, tcpPort: config.tcpPort };
  let stopping = false;

  const start = async (worker: Worker): Promise<WorkerReady> => {
    const workerConfig = { ...config, nodeId: worker.nodeId, capacity, workers: 1, wsPort: ports.wsPort, tcpPort: ports.tcpPort };
    if (workerConfig.softCapacity !== undefined) workerConfig.softCapacity = Math.ceil(workerConfig.softCapacity / count);
    const proc = Bun.spawn([process.execPath, WORKER], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, PUSHMESH_RELAY_WORKER_CONFIG: JSON.stringify(workerConfig) },
    });
    worker.proc = proc;
    worker.startedAt = Date.now();
    const ready = await readyLine(proc, worker.nodeId);
    void proc.exited.then((code) => onExit(worker, proc, code));
    return ready;
  };

  const onExit = (worker: Worker, proc: Subprocess, code: number | null) => {
    if (stopping || worker.proc !== proc) return;
    worker.proc = null;
    const ranMs = Date.now() - worker.startedAt;
    worker.restartMs = ranMs >= STABLE_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, worker.restartMs * 2);
    log("worker_exited", { nodeId: worker.nodeId, code, signal: proc.signalCode ?? null, restartInMs: worker.restartMs });
    setTimeout(() => {
      if (stopping) return;
      start(worker).then(
        (ready) => log("worker_restarted", { nodeId: worker.nodeId, pid: ready.pid }),
        (error) => {
          log("worker_restart_failed", { nodeId: worker.nodeId, error: String(error) });
          if (worker.proc) onExit(worker, worker.proc, null);
        },
      );
    }, worker.restartMs);
  };

  const workers: Worker[] = Array.from({ length: count }, (_, i) => ({ index: i + 1, nodeId: workerNodeId(config.nodeId, i + 1), proc: null, startedAt: 0, restartMs: RESTART_MIN_MS / 2 }));
  const stopAll = async () => {
    stopping = true;
    const running = workers.map((w) => w.proc).filter((p): p is NonNullable<typeof p> => p !== null);
    for (const proc of running) proc.kill("SIGTERM");
    await Promise.all(running.map((p) => p.exited));
  };
  let first: WorkerReady;
  try {
    // The first worker picks the ports when they are 0; the others bind the same ones.
    first = await start(workers[0]!);
    ports = { wsPort: first.wsPort, tcpPort: first.tcpPort };
    await Promise.all(workers.slice(1).map(start));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const shutdown = (signal: string) => {
    log("shutdown", { signal, workers: count });
    stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      role: "relay",
      nodeId: config.nodeId,
      region: config.region,
      ws: first.ws,
      tcp: first.tcp,
      pid: process.pid,
      workers: workers.map((w) => ({ nodeId: w.nodeId, pid: w.proc?.pid })),
    })}\n`,
  );
}

/** The worker's ready line; a worker that exits first fails with its exit code (its stderr is the host's). */
async function readyLine(proc: Subprocess<"pipe", "pipe", "inherit">, nodeId: string): Promise<WorkerReady> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => proc.kill("SIGKILL"), READY_TIMEOUT_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const newline = text.indexOf("\n");
      if (newline < 0) continue;
      const line = JSON.parse(text.slice(0, newline)) as WorkerReady & { ready?: boolean };
      // Keep reading so the worker never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
      return line;
    }
  } finally {
    clearTimeout(timer);
  }
  const code = await proc.exited;
  throw new Error(`relay worker ${nodeId} exited before it was ready (exit code ${code}); its error is above`);
}
