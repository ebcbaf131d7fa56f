// Every error the CLI reports by name, and the exit code each one ends the process with: 2 for a
// command line that cannot be run as written, 1 for a command that ran and failed.

export const CliErrorCode = {
  UNKNOWN_COMMAND: { exit: 2, reason: "no command of that name" },
  UNKNOWN_FLAG: { exit: 2, reason: "the command takes no flag of that name" },
  MISSING_ARGUMENT: { exit: 2, reason: "a required flag or argument is missing" },
  INVALID_ARGUMENT: { exit: 2, reason: "a flag's value or an argument is not one the command takes" },
  UNEXPECTED_ARGUMENT: { exit: 2, reason: "an argument the command does not take" },
  PORT_IN_USE: { exit: 1, reason: "a listener's port is held by another process" },
  EDGE_UNREACHABLE: { exit: 1, reason: "the edge did not answer" },
  EDGE_REFUSED: { exit: 1, reason: "the edge answered with an error" },
  NODE_NOT_FOUND: { exit: 1, reason: "no relay node with this id in the registry" },
  NO_RELAY: { exit: 1, reason: "the edge lists no relay a device could connect to" },
} as const;
export type CliErrorName = keyof typeof CliErrorCode;

export class CliError extends Error {
  constructor(
    readonly code: CliErrorName,
    message: string,
    options?: { cause?: unknown; /** Which command's help the user is pointed to. */ helpFor?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.helpFor = options?.helpFor;
  }
  readonly helpFor: string | undefined;

  get exitCode(): number {
    return CliErrorCode[this.code].exit;
  }

  /** Whether the command line itself is at fault (and the user should read the command's help). */
  get isUsage(): boolean {
    return this.exitCode === 2;
  }
}

/** The candidate nearest to `word` by edit distance, when it is near enough to be a likely typo. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Two edits, or one in three letters, past which a "did you mean" guesses more than it helps.
  return best !== undefined && bestDistance <= Math.max(1, Math.min(2, Math.floor(word.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Damerau (optimal string alignment): a swap of two neighbours, as in `sned`, is one edit.
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
