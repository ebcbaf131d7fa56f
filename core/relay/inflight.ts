// A session's pushes awaiting their ack, timed for the delivery-latency metric.

/** Pushes remembered per session to time their acks. */
const MAX_INFLIGHT = 4096;

/**
 * Pushes awaiting their ack, oldest first, to time delivery latency. A queue rather than a Map:
 * pushes arrive in seq order and acks take them from the front, and iterating a Map whose front
 * entries were deleted walked their tombstones on every ACK (~2 µs a frame in the relay's profile).
 */
export class Inflight {
  private seqs: number[] = [];
  private times: number[] = [];
  private head = 0;

  /** Only seqs above the last one count: a seq pushed again after a FETCH is timed once. */
  pushed(seq: number, createdAt: number): void {
    const n = this.seqs.length;
    if (n - this.head >= MAX_INFLIGHT || (n > this.head && this.seqs[n - 1]! >= seq)) return;
    this.seqs.push(seq);
    this.times.push(createdAt);
  }

  /** Reports every push up to `seq` and drops it; true when none is left. */
  acked(seq: number, now: number, report: (ms: number) => void): boolean {
    const { seqs, times } = this;
    let head = this.head;
    while (head < seqs.length && seqs[head]! <= seq) report(now - times[head++]!);
    if (head === seqs.length) return true;
    if (head > 1024 && head * 2 > seqs.length) {
      this.seqs = seqs.slice(head);
      this.times = times.slice(head);
      head = 0;
    }
    this.head = head;
    return false;
  }
}
