// A real redis-server for one test: its own temp dir and a free port, no persistence, gone at
// disposal. It can be killed, paused and started again on the same port, as an outage would.
// (relay/redis-server.ts starts the cluster command's; tests need the pause and the readiness line.)
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../ops/free-port.ts";

export const REDIS_SERVER = process.env.PUSHMESH_REDIS_SERVER ?? "/usr/bin/redis-server";

export type TestRedis = {
  port: number;
  url: string;
  /** SIGKILL: the server is gone at once, as after a crash. */
  kill(): Promise<void>;
  /** Starts a new, empty server on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing, as a frozen host would. */
  pause(): void;
  resume(): void;
  [Symbol.asyncDispose](): Promise<void>;
};

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "pushmesh-redis-"));
  let port = 0;
  let proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  // Another process may take the probed port before redis-server binds it; then probe again.
  for (let attempt = 1; !proc; attempt++) {
    port = await freePort();
    try {
      proc = await spawnRedis(port, dir);
    } catch (error) {
      if (attempt >= 5 || !String(error).includes("in use")) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const stop = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
    }
    await proc?.exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: stop,
    async restart() {
      await stop();
      proc = await spawnRedis(port, dir);
    },
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Servers still running; killed when the test process exits, even after a test timed out before disposal. */
const running = new Set<Subprocess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** Resolves once the server logs that it accepts connections; rejects with its output if it exits first. */
async function spawnRedis(port: number, dir: string): Promise<Subprocess<"ignore", "pipe", "pipe">> {
  const proc = Bun.spawn(
    [REDIS_SERVER, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let output = "";
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  const deadline = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
      if (output.includes("Ready to accept connections")) {
        // Keep draining so a chatty server never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read()).done);
        })().catch(() => {});
        return proc;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  await proc.exited;
  const stderr = await new Response(proc.stderr).text();
  throw new Error(`redis-server on port ${port} exited (${proc.exitCode ?? proc.signalCode}): ${(output + stderr).slice(-800)}`);
}
