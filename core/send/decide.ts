// Decide: who gets a message now and who waits. Preferences decide per device (deliver, hold for
// quiet hours, suppress), a scheduled message waits as a whole, a lapsed one expires, and frequency
// caps are taken atomically in the store. Used by a new send and by the scheduler's release.
import { holdUntil, isLapsed } from "../lifecycle.ts";
import { decide as decideFor, type FrequencyCap } from "../preferences.ts";
import type { DeferredTarget, NewMessage, Store, TargetDevice } from "../store.ts";

/** Who gets the message now, who waits and why, and the cap slots taken for it. */
export type Decision = { deliver: string[]; deferred: DeferredTarget[]; reserved: string[] };

type Plan = { deliver: { deviceId: string; cap: FrequencyCap | null }[]; deferred: DeferredTarget[] };

/** Applies each device's preferences at `now`. */
function plan(message: NewMessage, targets: TargetDevice[], now: number): Plan {
  const result: Plan = { deliver: [], deferred: [] };
  const lapsed = isLapsed(message.expiresAt, now);
  for (const { deviceId, prefs } of targets) {
    if (lapsed) {
      result.deferred.push({ deviceId, state: "expired", reason: "ttl", releaseAt: now });
      continue;
    }
    const decision = decideFor(prefs, message, now);
    if (decision.action === "suppress") {
      result.deferred.push({ deviceId, state: "suppressed", reason: decision.reason, releaseAt: now });
    } else if (decision.action === "hold") {
      result.deferred.push({ deviceId, state: "held", reason: "quiet_hours", releaseAt: holdUntil(decision.until, message.expiresAt) });
    } else {
      result.deliver.push({ deviceId, cap: decision.cap });
    }
  }
  return result;
}

/** Takes frequency-cap slots; devices without room move from `deliver` to suppressed. */
async function applyCaps(store: Store, message: NewMessage, planned: Plan, now: number): Promise<Decision> {
  const capped = planned.deliver.filter((d): d is { deviceId: string; cap: FrequencyCap } => d.cap !== null);
  const allowed =
    capped.length === 0 || message.category === null
      ? new Set<string>()
      : await store.reserveFrequency({ appId: message.appId, messageId: message.messageId, category: message.category, now }, capped);
  const deliver: string[] = [];
  for (const { deviceId, cap } of planned.deliver) {
    if (cap === null || allowed.has(deviceId)) deliver.push(deviceId);
    else planned.deferred.push({ deviceId, state: "suppressed", reason: "frequency_cap", releaseAt: now });
  }
  return { deliver, deferred: planned.deferred, reserved: [...allowed] };
}

/**
 * A message's targets at `now`. With `deliverAt` ahead every target waits as scheduled
 * (preferences apply at release); otherwise preferences apply now and cap slots are taken.
 * `gone` are targets of a release that are no devices any more: they expire.
 */
export async function decideTargets(
  store: Store,
  message: NewMessage,
  targets: TargetDevice[],
  options: { deliverAt: number | null; now: number; gone?: string[] },
): Promise<Decision> {
  const { deliverAt, now } = options;
  if (deliverAt !== null && deliverAt > now) {
    const deferred = targets.map((t): DeferredTarget => ({ deviceId: t.deviceId, state: "scheduled", reason: "schedule", releaseAt: deliverAt }));
    return { deliver: [], deferred, reserved: [] };
  }
  const planned = plan(message, targets, now);
  for (const deviceId of options.gone ?? []) planned.deferred.push({ deviceId, state: "expired", reason: "ttl", releaseAt: now });
  return applyCaps(store, message, planned, now);
}
