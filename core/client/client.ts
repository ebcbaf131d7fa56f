// The device SDK: connects, says HELLO with its last sequence, hands each message to the app once
// and in order, acks in batches, heartbeats, fetches gaps, and reconnects (following GOAWAY; slowly
// when another connection of the same device took over).
import { decodeFrame, encodeFrame } from "../codec.ts";
import {
  type Frame,
  FrameType,
  PRIORITY_NAMES,
  PROTOCOL_VERSION,
  type PriorityName,
  type PushFrame,
  type SubscribedFrame,
  type TopicPushFrame,
  type UnsubscribedFrame,
  SERVER_FRAMES,
  WIRE_ERROR_NAMES,
  WireError,
  bytesToUuid,
} from "../protocol.ts";
import type { ClientEvent, ClientOptions, ClientState, PushedMessage } from "./client-types.ts";
import { ReplacedBackoff } from "./replaced-backoff.ts";
import { handOverPushed, takePushed } from "./pushed.ts";
import { TopicRequests } from "./topic-requests.ts";
import type { Transport } from "./transport.ts";

export {
  type ClientEvent,
  type ClientOptions,
  type ClientState,
  type ClientStateStore,
  MemoryStateStore,
  type PushedMessage,
  type ReceivedMessage,
  type ReceivedTopicMessage,
} from "./client-types.ts";

/** Codes after which reconnecting with the same token cannot succeed. */
const FATAL = new Set<number>([
  WireError.TOKEN_INVALID.code,
  WireError.TOKEN_EXPIRED.code,
  WireError.TOKEN_REVOKED.code,
  WireError.DEVICE_UNKNOWN.code,
  WireError.UNSUPPORTED_VERSION.code,
]);

type Timer = ReturnType<typeof setTimeout>;

export class PushClient {
  private transport: Transport | null = null;
  private state: ClientState = { lastSeq: 0, epoch: 0, topics: {} };
  private readonly topicRequests = new TopicRequests((frame) => this.sendFrame(frame), (topic) => this.state.topics?.[topic] ?? null);
  /** Highest sequence received on the current connection (handed over or queued). */
  private receivedSeq = 0;
  private ackedSeq = 0;
  private loaded: Promise<void> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private heartbeatSeconds: number;
  private heartbeatTimer: Timer | null = null;
  private answerTimer: Timer | null = null;
  private ackTimer: Timer | null = null;
  private reconnectTimer: Timer | null = null;
  private addresses: string[];
  private addressIndex = 0;
  private attempts = 0;
  private stopped = false;
  private welcomed = false;
  private welcomedAt = 0;
  private fatal: ClientEvent | null = null;
  /** Bumped per connection; queued frames of an older one are skipped, as the new one replays them. */
  private generation = 0;
  /** retryAfterMs of the last GOAWAY: the earliest the next attempt may start. */
  private goawayDelayMs = 0;
  /** Whether the current attempt's socket opened: one that never did points at a dead node. */
  private opened = false;
  /** Addresses whose socket did not open, and until when later attempts pass over them. */
  private readonly unreachableUntil = new Map<string, number>();
  private readonly replaced: ReplacedBackoff;
  /** The code of the ERROR the relay sent before closing: on raw TCP the stream's end carries none. */
  private closingCode = 0;

  constructor(private readonly options: ClientOptions) {
    if (options.addresses.length === 0) throw new Error("PushClient needs at least one address");
    this.addresses = [...options.addresses];
    this.heartbeatSeconds = options.heartbeat ?? 30;
    this.replaced = new ReplacedBackoff(options.replacedBackoff);
  }

  get lastSeq(): number {
    return this.state.lastSeq;
  }

  get connected(): boolean {
    return this.welcomed;
  }

  async start(): Promise<void> {
    await this.load();
    this.connect();
  }

  /** Reads the saved state once; acceptPushed may need it before start. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      this.state = (await this.options.state?.load()) ?? { lastSeq: 0, epoch: 0 };
      this.state.topics ??= {};
      this.ackedSeq = this.state.lastSeq;
    })();
    return this.loaded;
  }

  /** A message from a push channel, before or after start(): handed over unless the app has it (pushed.ts). */
  acceptPushed(pushed: PushedMessage): Promise<boolean> {
    const run = this.queue.then(() => this.load()).then(() => handOverPushed(this.state, pushed, this.options));
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Stops for good: acks what the app has, then closes. Unanswered topic requests are rejected. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    this.flushAck();
    this.clearTimers();
    this.transport?.close();
    this.transport = null;
    this.topicRequests.stop(new Error("the client is stopped"));
  }

  /**
   * Subscribes this device to a topic (the server keeps the subscription across connections). Sent
   * after WELCOME (again after a reconnect until answered) with the offset held, if any. Resolves
   * with SUBSCRIBED's `startOffset` after the topic messages that came before it: later ones are above it.
   */
  subscribe(topic: string): Promise<number> {
    return this.topicRequests.add(FrameType.SUBSCRIBE, topic);
  }

  /** Resolves once the relay has removed the subscription; the topic's stored offset is then forgotten. */
  async unsubscribe(topic: string): Promise<void> {
    await this.topicRequests.add(FrameType.UNSUBSCRIBE, topic);
  }

  private topicAnswer(frame: SubscribedFrame | UnsubscribedFrame): void {
    const request = this.topicRequests.answered(frame);
    if (!request) return;
    // In turn with the messages queued for the app, so none that came before the answer follows it.
    this.queue = this.queue.then(async () => {
      const topics = this.state.topics;
      if (frame.type === FrameType.UNSUBSCRIBED && topics && frame.topic in topics) {
        delete topics[frame.topic];
        await this.options.state?.save({ ...this.state, topics: { ...topics } });
      }
      request.resolve(frame.type === FrameType.SUBSCRIBED ? frame.startOffset : 0);
    });
  }

  /** Drops the connection as a network failure would; the client reconnects by itself. */
  dropConnection(): void {
    this.transport?.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const address = this.addresses[this.addressIndex % this.addresses.length]!;
    this.welcomed = false;
    this.opened = false;
    this.closingCode = 0;
    this.receivedSeq = this.state.lastSeq;
    const transport = this.options.transport(address, {
      onOpen: () => {
        if (transport !== this.transport) return;
        this.opened = true;
        this.unreachableUntil.delete(address);
        const { deviceId, token } = this.options;
        const { lastSeq, epoch, topics = {} } = this.state;
        this.sendFrame({ type: FrameType.HELLO, version: PROTOCOL_VERSION, deviceId, token, lastSeq, heartbeat: this.heartbeatSeconds, epoch, topics });
      },
      onFrame: (bytes) => {
        if (transport === this.transport) this.receive(bytes, address);
      },
      onClose: (code, reason) => {
        if (transport === this.transport) this.disconnected(code, reason);
      },
    });
    this.transport = transport;
  }

  private receive(bytes: Uint8Array, address: string): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, SERVER_FRAMES, Number.MAX_SAFE_INTEGER);
    } catch (error) {
      this.emit({ type: "error", code: "MALFORMED_FRAME", message: String(error) });
      this.transport?.close();
      return;
    }
    this.touchAnswer();
    switch (frame.type) {
      case FrameType.WELCOME: {
        // A new epoch means the server's sequence history was reset: what we counted no longer applies.
        if (this.state.epoch !== 0 && frame.epoch !== this.state.epoch) this.state.lastSeq = 0;
        else if (frame.latestSeq < this.state.lastSeq) this.state.lastSeq = frame.latestSeq;
        this.state.epoch = frame.epoch;
        this.receivedSeq = this.ackedSeq = this.state.lastSeq;
        this.heartbeatSeconds = frame.heartbeat;
        this.welcomed = true;
        this.welcomedAt = Date.now();
        this.attempts = 0;
        void this.options.state?.save({ ...this.state, topics: { ...this.state.topics } });
        this.scheduleHeartbeat();
        this.emit({ type: "connected", nodeId: frame.nodeId, sessionId: frame.sessionId, address, latestSeq: frame.latestSeq });
        this.topicRequests.welcomed();
        return;
      }
      case FrameType.SUBSCRIBED:
      case FrameType.UNSUBSCRIBED:
        this.topicAnswer(frame);
        return;
      case FrameType.TOPIC_PUSH:
        this.enqueue(frame);
        return;
      case FrameType.PUSH:
        if (frame.seq > this.receivedSeq) this.receivedSeq = frame.seq;
        this.enqueue(frame);
        return;
      case FrameType.HEARTBEAT_ACK:
        if (frame.latestSeq > this.receivedSeq) this.sendFrame({ type: FrameType.FETCH, afterSeq: this.receivedSeq });
        return;
      case FrameType.GOAWAY: {
        const field = this.options.alternativeField ?? (/^wss?:\/\//.test(address) ? 1 : 2);
        const alternatives = frame.alternatives.map((a) => a[field]).filter((a) => a.length > 0);
        this.emit({ type: "goaway", reason: frame.reason, alternatives });
        this.goawayDelayMs = frame.retryAfterMs;
        if (alternatives.length > 0) {
          // Go straight to the first alternative; with none, back off as after any failure.
          this.addresses = alternatives;
          this.addressIndex = 0;
          this.attempts = 0;
        }
        this.transport?.close();
        return;
      }
      case FrameType.ERROR: {
        const name = WIRE_ERROR_NAMES.get(frame.code) ?? String(frame.code);
        const event: ClientEvent = { type: "error", code: name, message: frame.message };
        if (FATAL.has(frame.code)) this.fatal = event;
        this.closingCode = frame.code;
        if (this.welcomed) this.topicRequests.refused(frame.code, frame.message);
        this.emit(event);
        return;
      }
    }
  }

  /** Hands messages to the app one at a time, in order, skipping any it already had. */
  private enqueue(frame: PushFrame | TopicPushFrame): void {
    const generation = this.generation;
    this.queue = this.queue.then(() => this.handOver(frame, generation)).catch((error: unknown) => {
      // The failed message stays unacknowledged and the connection is dropped, which skips what
      // was queued behind it; the reconnect replays from the last message the app took.
      this.emit({ type: "error", code: "HANDLER_FAILED", message: String(error) });
      this.transport?.close();
    });
  }

  private async handOver(frame: PushFrame | TopicPushFrame, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    if (frame.type === FrameType.TOPIC_PUSH) return this.handOverTopic(frame);
    if (frame.seq <= this.state.lastSeq) {
      this.scheduleAck();
      return;
    }
    if (takePushed(this.state, frame.seq)) {
      // The app has it from a push channel already: acked, so it is not replayed, never handed twice.
      this.state.lastSeq = frame.seq;
      await this.options.state?.save({ ...this.state, topics: { ...this.state.topics } });
      this.scheduleAck();
      return;
    }
    await this.options.onMessage({
      seq: frame.seq,
      messageId: bytesToUuid(frame.messageId),
      priority: PRIORITY_NAMES[frame.priority]!,
      data: frame.data,
      sentAt: frame.sentAt,
      collapseKey: frame.collapseKey,
      via: "socket",
    });
    this.state.lastSeq = frame.seq;
    await this.options.state?.save({ ...this.state, topics: { ...this.state.topics } });
    this.scheduleAck();
  }

  private async handOverTopic(frame: TopicPushFrame): Promise<void> {
    const topics = (this.state.topics ??= {});
    if (frame.offset <= (topics[frame.topic] ?? 0)) return;
    await this.options.onTopicMessage?.({
      topic: frame.topic,
      offset: frame.offset,
      messageId: bytesToUuid(frame.messageId),
      priority: PRIORITY_NAMES[frame.priority]!,
      data: frame.data,
      sentAt: frame.sentAt,
    });
    topics[frame.topic] = frame.offset;
    await this.options.state?.save({ ...this.state, topics: { ...topics } });
  }

  private scheduleAck(): void {
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      this.flushAck();
    }, this.options.ackDelayMs ?? 20);
  }

  private flushAck(): void {
    if (!this.welcomed || this.state.lastSeq <= this.ackedSeq) return;
    this.ackedSeq = this.state.lastSeq;
    this.sendFrame({ type: FrameType.ACK, seq: this.ackedSeq });
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      if (!this.welcomed) return;
      this.sendFrame({ type: FrameType.HEARTBEAT, interval: this.heartbeatSeconds });
      // A server that does not answer within the interval (at most 10 s) is gone.
      this.answerTimer ??= setTimeout(() => this.transport?.close(), Math.min(10_000, this.heartbeatSeconds * 1000));
      this.scheduleHeartbeat();
    }, this.heartbeatSeconds * 1000);
  }

  private touchAnswer(): void {
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = null;
  }

  private disconnected(closeCode: number, reason: string): void {
    const code = closeCode >= 4000 ? closeCode : this.closingCode || closeCode;
    this.generation++;
    this.transport = null;
    this.welcomed = false;
    this.topicRequests.connectionLost();
    this.clearTimers();
    this.emit({ type: "disconnected", code, reason });
    if (this.fatal) this.topicRequests.stop(new Error("the relay refused this device; the client does not reconnect"));
    if (this.stopped || this.fatal) return;
    const { minMs, maxMs } = this.options.reconnect ?? { minMs: 100, maxMs: 10_000 };
    // Full jitter so a node's devices do not all return in the same instant.
    const ceiling = Math.min(maxMs, minMs * 2 ** this.attempts);
    const replacedMs = code === WireError.SESSION_REPLACED.code ? this.replaced.next(this.welcomedAt, Date.now()) : 0;
    if (replacedMs > 0) this.emit({ type: "replaced", retryInMs: replacedMs });
    const delay = Math.max(this.goawayDelayMs, replacedMs, this.attempts === 0 ? 0 : Math.random() * ceiling);
    this.goawayDelayMs = 0;
    const current = this.addresses[this.addressIndex % this.addresses.length]!;
    if (!this.opened) this.unreachableUntil.set(current, Date.now() + maxMs);
    if (this.attempts > 0 || !this.opened) this.addressIndex = this.nextAddressIndex();
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /**
   * The next address in the list whose socket last opened, or that has not been tried lately.
   * When a relay dies, its devices' next tries go to the others instead of every other one going
   * back to the dead node; with every address unreachable, the list is simply walked in turn.
   */
  private nextAddressIndex(): number {
    const n = this.addresses.length;
    const now = Date.now();
    for (let step = 1; step <= n; step++) {
      const index = this.addressIndex + step;
      if ((this.unreachableUntil.get(this.addresses[index % n]!) ?? 0) <= now) return index;
    }
    return this.addressIndex + 1;
  }

  private sendFrame(frame: Frame): void {
    this.transport?.send(encodeFrame(frame));
  }

  private emit(event: ClientEvent): void {
    this.options.onEvent?.(event);
  }

  private clearTimers(): void {
    for (const t of [this.heartbeatTimer, this.answerTimer, this.ackTimer, this.reconnectTimer]) if (t) clearTimeout(t);
    this.heartbeatTimer = this.answerTimer = this.ackTimer = this.reconnectTimer = null;
  }
}
