// The edge spool: where an edge keeps the sends it accepted while the store would not take them,
// until it can forward them. The interface is here; the libSQL file behind it is spool/spool-file.ts,
// the decision to spool core/send/spool.ts, and the forwarding core/spool-forwarder.ts.
import type { SendRequest } from "./send/request.ts";

/** A send the edge answered 202 "queued" and has not forwarded yet. */
export type SpooledSend = {
  /** Its place in the spool: forwarded in this order. */
  seq: number;
  appId: string;
  /** Chosen when the edge took the send; the forward writes the message under it, so a forward made twice writes once. */
  messageId: string;
  /** When the edge took it: the message's createdAt, and the `now` its delay and ttl count from. */
  acceptedAt: number;
  request: SendRequest;
  /** Forwards tried that failed for a reason other than the store being away. */
  attempts: number;
  /** The edge to hand the send over to (POST /v1/handover); null: this edge writes it to the store. */
  forwardTo: string | null;
};

/** What the spool answers about a message it holds or refused to forward. */
export type SpoolRecord =
  | { state: "queued"; messageId: string; acceptedAt: number; attempts: number; lastError: string | null }
  | { state: "refused"; messageId: string; acceptedAt: number; refusedAt: number; error: { code: string; message: string } };

export type SpoolAppend = Omit<SpooledSend, "seq" | "attempts" | "forwardTo"> & {
  forwardTo?: string;
  /** The send's idempotency key and the hash of its request: a repeat while it is queued gets the same answer. */
  idempotency?: { key: string; requestHash: string };
};

export interface Spool {
  /** Durable (synced to disk) when it resolves. Throws SpoolFull past the bounds. */
  append(entry: SpoolAppend): Promise<void>;
  /** The oldest queued sends, in order; none of the ways in `skip` (a `forwardTo`, "" for this edge's store). */
  oldest(limit: number, skip?: ReadonlySet<string>): Promise<SpooledSend[]>;
  /** The sends reached the store (or were written by an earlier forward): they leave the spool. */
  forwarded(seqs: number[]): Promise<void>;
  /** The store refused the send for good: it leaves the queue, and its refusal is kept for tracking. */
  refused(seq: number, error: { code: string; message: string }, at: number): Promise<void>;
  /** The send goes another way from now on (its device moved home): to `forwardTo`, or with null to this edge's store. It keeps its place among that way's sends by its age. */
  redirect(seq: number, forwardTo: string | null): Promise<void>;
  /** A forward failed for another reason: counted, so a send that keeps failing is refused in the end. */
  failed(seq: number, reason: string): Promise<number>;
  /** A queued send with this idempotency key, and the hash of its request. */
  byIdempotencyKey(appId: string, key: string): Promise<{ messageId: string; acceptedAt: number; requestHash: string } | null>;
  /** The spool's record of a message: queued, or refused; null when it holds none. */
  record(appId: string, messageId: string): Promise<SpoolRecord | null>;
  /** Sends queued now, and their bytes. */
  size(): { entries: number; bytes: number; oldestAcceptedAt: number | null };
  /** Sends queued one way: to the edge `forwardTo`, or with none to this edge's own store. A send waits behind these only. */
  waiting(forwardTo?: string): number;
  /** Refusals kept longer than this are dropped. */
  dropRefusalsBefore(at: number): Promise<number>;
  close(): void;
}

/** The spool is at its bound: the send is refused (503 SPOOL_FULL), nothing was kept. */
export class SpoolFull extends Error {
  override readonly name = "SpoolFull";
  constructor(readonly bound: "entries" | "bytes", readonly limit: number) {
    super(`the edge's spool holds its most ${bound} (${limit})`);
  }
}
