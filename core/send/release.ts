// A release: scheduled or held targets whose time came go through the send path's last steps
// again — preferences apply anew at `now` (a target may be held again, or muted since), then the
// durable write and the signal. The write fails as a whole (StoreConflict) if another scheduler
// released any of these targets first.
import type { Engine } from "../engine.ts";
import type { Log } from "../log.ts";
import type { NewMessage, Store, TargetDevice } from "../store.ts";
import { decideTargets } from "./decide.ts";
import { signalHolders } from "./signal.ts";
import { writeDecision } from "./write.ts";

/** Releases `targets` (and expires `gone`, targets that are no devices any more); returns how many left the waiting states. */
export async function releaseTargets(
  deps: { store: Store; engine: Engine; log?: Log },
  message: NewMessage,
  targets: TargetDevice[],
  gone: string[],
  now: number,
): Promise<number> {
  const decision = await decideTargets(deps.store, message, targets, { deliverAt: null, now, gone });
  if (decision.deliver.length === 0 && decision.deferred.length === 0) return 0;
  const assigned = await writeDecision(deps.store, message, decision, { targetCount: 0, release: true, at: now }, deps.log);
  await signalHolders(deps.engine, message, assigned, deps.log);
  return decision.deliver.length + decision.deferred.filter((d) => d.state !== "held" && d.state !== "scheduled").length;
}
