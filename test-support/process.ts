// Runs the real CLI as a child process, the way a user would, and reads its JSON lines.
import { join } from "node:path";
import type { Subprocess } from "bun";

export const CLI = join(import.meta.dir, "..", "ops", "cli.ts");

export type Ready = { ready: true; edge: string; ws: string; tcp: string; appId: string; apiKey: string };

export type CliProcess = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the next complete stdout line parsed as JSON. */
  nextLine(timeoutMs?: number): Promise<any>;
  /** Resolves once the process logs (one JSON line on stderr) the named event. */
  logged(event: string, timeoutMs?: number): Promise<any>;
  lines: any[];
  /** Everything written to stderr so far. */
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const lines: any[] = [];
  let read = 0;
  const waiting: (() => void)[] = [];
  // stderr is read as it comes: a process that never exits still shows its log when a wait times out.
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      for (const w of waiting.splice(0)) w();
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
        reject(new Error(`${what} from ${args[0]} not seen within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const check = () => {
        const value = found();
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`${args[0]} exited with ${proc.exitCode ?? proc.signalCode} before ${what}; stderr: ${stderr.slice(-2000)}`));
        } else waiting.push(check);
      };
      check();
    });
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of proc.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
        for (const w of waiting.splice(0)) w();
      }
    }
    await proc.exited;
    for (const w of waiting.splice(0)) w();
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
    stderr: () => stderr,
    nextLine(timeoutMs = 15_000) {
      return waitUntil("a stdout line", timeoutMs, () => (read < lines.length ? lines[read++] : undefined));
    },
    logged(event, timeoutMs = 15_000) {
      return waitUntil(`the log event '${event}'`, timeoutMs, () => loggedEvents().find((e) => e?.event === event) ?? undefined);
    },
    kill,
    [Symbol.asyncDispose]: () => kill(),
  };
}

export async function startDev(db: string): Promise<CliProcess & { ready: Ready }> {
  const dev = runCli(["dev", "--db", `file:${db}`, "--edge-port", "0", "--ws-port", "0", "--tcp-port", "0"]);
  const ready = (await dev.nextLine()) as Ready;
  return Object.assign(dev, { ready });
}
