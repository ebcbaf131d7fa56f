/** A command's answer: one line of JSON on stdout. Logs go to stderr (ops/log.ts). */
export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
