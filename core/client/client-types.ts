// What an app hands the device SDK and gets from it: options, received messages, events, and the
// state it persists between runs.
import type { PriorityName } from "../protocol.ts";
import type { BackoffRange } from "./replaced-backoff.ts";
import type { TransportFactory } from "./transport.ts";

export type ReceivedMessage = {
  seq: number;
  messageId: string;
  priority: PriorityName;
  data: unknown;
  sentAt: number;
  collapseKey: string | null;
  /** How it came: on the socket, or through a push channel (PushClient.acceptPushed). */
  via: "socket" | "push";
};

/** A message as a push channel carries it (Web Push payload, FCM data, APNs body): see docs/protocol.md, The last mile. */
export type PushedMessage = {
  messageId: string;
  seq: number | null;
  data: unknown;
  title?: string | null;
  body?: string | null;
  priority?: PriorityName;
  sentAt?: number;
};

export type ReceivedTopicMessage = {
  topic: string;
  offset: number;
  messageId: string;
  priority: PriorityName;
  data: unknown;
  sentAt: number;
};

/** What the SDK must remember across restarts to hand each message to the app exactly once. */
/** `pushed`: seqs past lastSeq the app already got through a push channel; the socket's copy is acked, not handed over again. */
export type ClientState = { lastSeq: number; epoch: number; topics?: Record<string, number>; pushed?: number[] };
export interface ClientStateStore {
  load(): ClientState | null | Promise<ClientState | null>;
  save(state: ClientState): void | Promise<void>;
}
export class MemoryStateStore implements ClientStateStore {
  private state: ClientState | null = null;
  load() {
    return this.state;
  }
  save(state: ClientState) {
    this.state = { ...state };
  }
}

export type ClientEvent =
  | { type: "connected"; nodeId: string; sessionId: string; address: string; latestSeq: number }
  | { type: "disconnected"; code: number; reason: string }
  | { type: "goaway"; reason: number; alternatives: string[] }
  /** Another connection for this device took over (SESSION_REPLACED); the next attempt waits `retryInMs`. */
  | { type: "replaced"; retryInMs: number }
  | { type: "error"; code: string; message: string };

export type ClientOptions = {
  deviceId: string;
  token: string;
  /** Addresses to try in order: ws:// URLs for the WebSocket transport, host:port for TCP. */
  addresses: string[];
  transport: TransportFactory;
  onMessage: (message: ReceivedMessage) => void | Promise<void>;
  /** Topic messages, once each and in offset order per topic. */
  onTopicMessage?: (message: ReceivedTopicMessage) => void | Promise<void>;
  onEvent?: (event: ClientEvent) => void;
  state?: ClientStateStore;
  /** Seconds between heartbeats this device wants; the server clamps it. */
  heartbeat?: number;
  /** Acks wait this long to cover several messages in one frame. */
  ackDelayMs?: number;
  reconnect?: { minMs: number; maxMs: number };
  /** The wait after SESSION_REPLACED (replaced-backoff.ts); default 5 s doubling up to 60 s. */
  replacedBackoff?: BackoffRange;
  /** Picks the GOAWAY alternative field for this transport: 1 = ws URL, 2 = tcp address. */
  alternativeField?: 1 | 2;
};
