// The machine a benchmark ran on, written beside every figure: with the commit measured and the
// load the machine carried when the benchmark started.
import { cpus, loadavg, release, totalmem } from "node:os";

export function describeMachine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Bun ${Bun.version}`;
}

/** The commit checked out (with "+changes" when the tree differs from it), and the 1-minute load average now. */
export function describeRun(): string {
  const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stderr: "ignore" });
  const head = git("rev-parse", "--short", "HEAD").stdout.toString().trim() || "unknown commit";
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout.toString().trim() !== "";
  return `commit ${head}${dirty ? "+changes" : ""} · load ${loadavg()[0]!.toFixed(2)}`;
}
