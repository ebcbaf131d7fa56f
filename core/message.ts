// A message as the send path writes it, and the subjects preferences and endpoints belong to:
// the records both the store's interface (store.ts) and the last mile's (last-mile-store.ts) name.
import type { FallbackPolicy, Notification } from "./channels.ts";
import type { PriorityCode } from "./protocol.ts";

/**
 * A message body as the relay pushes it: CBOR bytes, encoded once at the edge (core/codec.ts).
 * A stored body that cannot become a frame (a damaged or pre-0003 row the codec refuses) reads
 * as `undeliverable`, with the reason: the relay marks that target failed and moves on.
 */
export type Payload = Uint8Array | { undeliverable: string };

/** A message as the send path writes it (and as a release reads it back). */
export type NewMessage = {
  appId: string;
  messageId: string;
  priority: PriorityCode;
  data: Payload;
  collapseKey: string | null;
  /** Label for mutes and frequency caps; null: none. */
  category: string | null;
  createdAt: number;
  /** From core/lifecycle.ts `expiryOf`; null: never lapses. */
  expiresAt: number | null;
  /** Title and body for the last-mile channels; absent or null: none. */
  notification?: Notification | null;
  /** The last-mile fallback for targets the socket does not ack in time; absent or null: none. */
  fallback?: FallbackPolicy | null;
};

export type SubjectType = "device" | "user";
export type Subject = { type: SubjectType; id: string };
