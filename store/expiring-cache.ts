// A small map whose entries lapse after a fixed time and which empties itself when full: the store
// keeps app secrets and API-key answers in these, so a rotation or revocation is seen within ttlMs.

export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The value cached for `key`, or undefined when there is none or it has lapsed. */
  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > now ? entry.value : undefined;
  }

  /** Keeps `value` for the cache's life, or until `until` when that comes first (an answer that changes then). */
  set(key: K, value: V, now: number, until = Infinity): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, until: Math.min(now + this.ttlMs, until) });
  }

  /** Drops every entry whose value matches, at once. */
  forget(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}
