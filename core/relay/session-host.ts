// What a session needs of the world around it: the relay that holds it and the transport under
// it. Declared apart from both, so that relay.ts → session.ts is the only arrow between them.
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import type { Frame, WireErrorName } from "../protocol.ts";
import type { Store } from "../store.ts";
import type { MarkQueue } from "./marks.ts";
import type { RelayMetrics } from "./metrics.ts";

/** What a relay needs of a transport: Bun's WebSocket and TCP sockets are wrapped to this. */
export interface Connection {
  readonly transport: "ws" | "tcp";
  readonly remoteAddress: string;
  /** Sends one encoded frame (the transport adds its framing); false once its buffer is past the high-water mark. */
  send(frame: Uint8Array): boolean;
  /** Runs `send`; the frames it sends leave together, in as few socket writes as the transport allows. */
  cork(send: () => void): void;
  /** Closes after what was sent has been flushed. */
  close(code: number, reason: string): void;
  /** Bytes accepted but not yet written to the socket. */
  buffered(): number;
}

/** The relay as its sessions see it; `S` is the session type, which `Relay` fills in. */
export interface SessionHost<S> {
  readonly config: Config;
  readonly store: Store;
  readonly metrics: RelayMetrics;
  readonly log: Log;
  readonly now: () => number;
  /** Where the session's topic cursors record how far each got. */
  readonly marks: Pick<MarkQueue, "topicReached">;
  /** A GOAWAY naming other nodes; `region`: only that region's. */
  goaway(reason: WireErrorName, retryAfterMs?: number, region?: string): Frame;
  /** How long to hold WELCOME back; grows past soft capacity. */
  handshakeDelayMs(): number;
  /** Makes the session its device's one session, here and in the engine. */
  attach(session: S): Promise<void>;
  registerPresence(session: S): Promise<void>;
  /** The session is gone: `detach` once it was attached, `forget` before. */
  detach(session: S): void;
  forget(session: S): void;
  indexTopic(session: S, topic: string): void;
  unindexTopic(session: S, topic: string): void;
  queueAck(session: S, seq: number): void;
  queueExpired(session: S, seq: number): void;
  /** A row the session cannot push: marked failed with `reason`, and its stream moves past it. */
  queueFailed(session: S, seq: number, reason: string): void;
}
