// Runs the real CLI (or `npm start`) as a child process, the way a user would, and reads its JSON lines.
import { join } from "node:path";
import type { Subprocess } from "bun";

export const CLI = join(import.meta.dir, "..", "ops", "cli.ts");
export const ROOT = join(import.meta.dir, "..");

export type Ready = { ready: true; edge: string; ws: string; tcp: string; appId: string; apiKey: string; operatorKey: string };

export type CliProcess = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the next complete stdout line parsed as JSON (a line that is not JSON comes as its text). */
  nextLine(timeoutMs?: number): Promise<any>;
  /** Resolves once the process logs (one JSON line on stderr) the named event. */
  logged(event: string, timeoutMs?: number): Promise<any>;
  /** Every log line on stderr so far with the named event. */
  events(event: string): any[];
  lines: any[];
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Waits for the process to exit by itself and for all of its output. */
  finished(timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return runProcess([process.execPath, CLI, ...args], { env });
}

/**
 * `group`: the process leads a process group of its own, and disposing of it kills the whole group,
 * so whatever it started (npm's script shell and the mesh under it) never outlives the test.
 */
export function runProcess(command: string[], options: { env?: Record<string, string | undefined>; cwd?: string; group?: boolean } = {}): CliProcess {
  const name = command.includes(CLI) ? (command[command.indexOf(CLI) + 1] ?? "cli") : command.join(" ");
  const proc = Bun.spawn(command, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: options.group ?? false,
  });
  const lines: any[] = [];
  let read = 0;
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  // stderr is read as it comes: a process that never exits still shows its log when a wait times out.
  let stderr = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      wake();
    }
  })();
  const loggedEvents = () =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return null;
        }
      });
  const waitUntil = <T>(what: string, timeoutMs: number, found: () => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${what} from ${name} not seen within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const check = () => {
        const value = found();
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`${name} exited with ${proc.exitCode ?? proc.signalCode} before ${what}; stderr: ${stderr.slice(-2000)}`));
        } else waiting.push(check);
      };
      check();
    });
  let stdout = "";
  const stdoutDone = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of proc.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      stdout += text;
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push(line);
        }
        wake();
      }
    }
    await proc.exited;
    wake();
  })();
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    // A process that does not stop on a polite signal within 10 s is killed.
    const stopped = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!stopped) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  return {
    proc,
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    nextLine(timeoutMs = 15_000) {
      return waitUntil("a stdout line", timeoutMs, () => (read < lines.length ? lines[read++] : undefined));
    },
    logged(event, timeoutMs = 15_000) {
      return waitUntil(`the log event '${event}'`, timeoutMs, () => loggedEvents().find((e) => e?.event === event) ?? undefined);
    },
    events: (event) => loggedEvents().filter((e) => e?.event === event),
    // 45 s: on a busy 2-core machine, where a cluster test may be starting a dozen processes beside
    // it, a CLI that exits at once took over 15 s to be seen gone; the test's own 60 s still catch a hang.
    async finished(timeoutMs = 45_000) {
      // Output ends when every process holding the pipes is gone: the child and anything it left running.
      const done = Promise.all([proc.exited, stdoutDone, stderrDone]).then(() => true);
      if (!(await Promise.race([done, Bun.sleep(timeoutMs).then(() => false)]))) {
        throw new Error(`${name} (or a process it started) still holds its output after ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`);
      }
      return { code: proc.exitCode, stdout, stderr };
    },
    kill,
    [Symbol.asyncDispose]: async () => {
      if (options.group) {
        try {
          process.kill(-proc.pid, "SIGKILL");
        } catch {
          // The group is gone already.
        }
      }
      await kill();
    },
  };
}

/** `flags`: more of `pushmesh dev`'s flags, as `["--rate-limit-requests", "1000000"]`. */
export async function startDev(db: string, flags: string[] = []): Promise<CliProcess & { ready: Ready }> {
  const dev = runCli(["dev", "--db", `file:${db}`, "--edge-port", "0", "--ws-port", "0", "--tcp-port", "0", ...flags]);
  const ready = (await dev.nextLine()) as Ready;
  return Object.assign(dev, { ready });
}
