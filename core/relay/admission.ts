// Who may connect: a per-address connection rate limit, and the handshake delay past soft
// capacity (the Meizu seed's ~50 ms per 100k extra connections on a 4M-connection box, i.e. per
// 2.5% of capacity over the soft mark).

type Bucket = { tokens: number; at: number };

/** Token bucket per remote address; idle buckets are dropped so memory follows active addresses. */
export class ConnectRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Milliseconds until `address` may connect; 0 means now (and the attempt is counted). */
  take(address: string, now: number): number {
    const bucket = this.buckets.get(address) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(address, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }

  /** Forgets addresses whose buckets have refilled. */
  sweep(now: number): void {
    const full = (this.burst / this.perSecond) * 1000;
    for (const [address, bucket] of this.buckets) if (now - bucket.at > full) this.buckets.delete(address);
  }
}

export type Capacity = { capacity: number; softCapacity: number; softDelayMs: number };

export function handshakeDelay(connections: number, c: Capacity): number {
  const excess = connections - c.softCapacity;
  if (excess <= 0) return 0;
  const step = Math.max(1, c.capacity * 0.025);
  return Math.round((excess / step) * c.softDelayMs);
}
