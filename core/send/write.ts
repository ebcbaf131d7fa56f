// The durable write: one atomic write per message through the Store, which may commit concurrent
// writes together in the order they were made. The write is queued before this function's first
// await, so writes started one after another keep that order (a batch relies on it).
import type { Log } from "../log.ts";
import type { Assigned, MessageWrite, NewMessage, Store } from "../store.ts";
import type { Decision } from "./decide.ts";

export type WriteOptions = Pick<MessageWrite, "targetCount" | "release" | "idempotency" | "at">;

/** Writes the decided message; on failure gives back the cap slots the decision took. */
export async function writeDecision(store: Store, message: NewMessage, decision: Decision, options: WriteOptions, log?: Log): Promise<Assigned[]> {
  const written = store.writeMessage({ message, deliver: decision.deliver, deferred: decision.deferred, ...options });
  try {
    return await written;
  } catch (error) {
    await giveBackSlots(store, message, decision.reserved, log);
    throw error;
  }
}

async function giveBackSlots(store: Store, message: NewMessage, deviceIds: string[], log?: Log): Promise<void> {
  if (deviceIds.length === 0) return;
  try {
    await store.releaseFrequency(message.appId, message.messageId, deviceIds);
  } catch (error) {
    // A slot kept by mistake only makes the cap stricter for one window.
    log?.("frequency_release_failed", { messageId: message.messageId, error: String(error) });
  }
}
