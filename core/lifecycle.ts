// A message's life, decided in one place: when it lapses, which states a target can be in, and
// what state a reader sees. The store keeps raw states; the send path, the scheduler, the relay
// and tracking ask here rather than comparing times themselves.

/** Every state a target of a message can be in. */
export type TargetState =
  /** In the device's inbox with a sequence, not yet acknowledged. */
  | "pending"
  /** Acknowledged by the device. */
  | "delivered"
  /** Its time ran out before it was delivered. */
  | "expired"
  /** A newer message with the same collapse key replaced it before it was delivered. */
  | "collapsed"
  /** Muted or over a frequency cap: it never goes out. */
  | "suppressed"
  /** Waiting for its scheduled time (`deliverAt`, `delay`). */
  | "scheduled"
  /** Waiting for the end of the device's quiet hours. */
  | "held"
  /** The relay could not deliver it (see the target's reason); the device's stream moved past it. */
  | "failed";

/** States a target never leaves. */
export const FINAL_STATES: ReadonlySet<TargetState> = new Set(["delivered", "expired", "collapsed", "suppressed", "failed"]);
/** States whose target is still waiting to go out; a lapse turns them into `expired`. */
const OUTSTANDING: ReadonlySet<TargetState> = new Set(["pending", "scheduled", "held"]);

/**
 * When a message stops being deliverable: `ttlSeconds` after it is due — now for an immediate
 * send or a topic message, its scheduled time for a scheduled one. Null: it never lapses.
 */
export function expiryOf(dueAt: number, ttlSeconds: number | undefined | null): number | null {
  return ttlSeconds === undefined || ttlSeconds === null ? null : dueAt + ttlSeconds * 1000;
}

/** The one definition of lapsed: at or past its expiry. The store's aggregate reads count it the same way. */
export function isLapsed(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/** A target's state as a reader sees it: an outstanding target of a lapsed message has expired. */
export function effectiveState(state: TargetState, lapsed: boolean): TargetState {
  return lapsed && OUTSTANDING.has(state) ? "expired" : state;
}

/** When a target held for quiet hours wakes: at the end of the hours, or at the expiry to record it expired. */
export function holdUntil(until: number, expiresAt: number | null): number {
  return expiresAt === null ? until : Math.min(until, expiresAt);
}
