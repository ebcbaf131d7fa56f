// The machine a benchmark ran on, written beside every figure.
import { cpus, release, totalmem } from "node:os";

export function describeMachine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Bun ${Bun.version}`;
}
