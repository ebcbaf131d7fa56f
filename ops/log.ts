import type { Log } from "../core/log.ts";

/** JSON lines on stderr; stdout is kept for what a command prints as its answer. */
export const stderrLog: Log = (event, fields) => {
  process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), event, ...fields })}\n`);
};

export const silentLog: Log = () => {};
