// How long a device stays away after another connection for it took over (SESSION_REPLACED).
// Coming straight back would take the device from that connection, which would do the same, and
// the two would trade it for ever; waiting longer each time in a row lets them take turns ever
// more slowly, and jitter keeps two identical clients from returning in step.

export type BackoffRange = { minMs: number; maxMs: number };

export const REPLACED_BACKOFF: BackoffRange = { minMs: 5_000, maxMs: 60_000 };

export class ReplacedBackoff {
  /** Replacements in a row. */
  private streak = 0;

  constructor(
    private readonly range: BackoffRange = REPLACED_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The wait before the next attempt, for a session welcomed at `welcomedAt` and replaced at `now`:
   * from minMs, doubling with each replacement in a row up to maxMs, jittered within [half, whole].
   */
  next(welcomedAt: number, now: number): number {
    const { minMs, maxMs } = this.range;
    // A session that held for longer than the longest wait was not in a fight: start over.
    if (now - welcomedAt > maxMs) this.streak = 0;
    const ceiling = Math.min(maxMs, minMs * 2 ** this.streak);
    this.streak++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }
}
