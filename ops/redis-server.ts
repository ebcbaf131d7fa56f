// redis-server (from Debian's package) as a child process on a free loopback port, keeping
// nothing on disk. The cluster command and the tests start their own.
import type { Subprocess } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export type RedisServer = {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing). */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

async function waitListening(port: number, proc: Subprocess, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
      (s) => (s.end(), true),
      () => false,
    );
    if (ok) return;
    await Bun.sleep(25);
  }
  throw new Error(`redis-server on ${port} did not listen within ${timeoutMs} ms`);
}

export async function startRedisServer(dir: string, port?: number): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  let proc: Subprocess | null = null;
  const start = async () => {
    proc = Bun.spawn(
      ["redis-server", "--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, "redis.log")],
      { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
    );
    await waitListening(p, proc);
  };
  const stop = async () => {
    const current = proc as Subprocess | null;
    if (current && current.exitCode === null && current.signalCode === null) {
      current.kill("SIGKILL");
      await current.exited;
    }
  };
  await start();
  return { url: `redis://127.0.0.1:${p}`, port: p, stop, restart: start, [Symbol.asyncDispose]: stop };
}
