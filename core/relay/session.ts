// One device connection, whatever its transport: the HELLO handshake, frames handled one at a
// time in arrival order, pushes in sequence order, acks, heartbeats, gap fetches, low-priority
// holding and backpressure. Topics are in session-topics.ts. The transport hands in frame bodies
// and takes frames out; the relay is seen only through SessionHost.
import { decodeFrame, encodeFrame } from "../codec.ts";
import { randomId } from "../ids.ts";
import { isLapsed } from "../lifecycle.ts";
import {
  DEVICE_FRAMES,
  type Frame,
  FRAME_NAMES,
  FrameError,
  type FrameName,
  FrameType,
  type HelloFrame,
  Priority,
  WireError,
  type WireErrorName,
} from "../protocol.ts";
import type { InboxMessage } from "../store.ts";
import { checkHello, HomeElsewhere, resumePoint } from "./hello-checks.ts";
import { Inflight } from "./inflight.ts";
import { InOrderFrames } from "./in-order.ts";
import { pushFrameOf } from "./push-frames.ts";
import type { Connection, SessionHost } from "./session-host.ts";
import { SessionTopics, type TopicOwner } from "./session-topics.ts";

// "closing": the session's last frame is being sent; nothing else happens to it.
type State = "hello" | "auth" | "open" | "closing" | "closed";

/** How many inbox rows one store read brings while replaying. */
const REPLAY_PAGE = 256;
/** Signals held in memory per session; beyond this the store is the buffer. */
const MAX_PENDING = 1024;

export class Session extends InOrderFrames implements TopicOwner {
  readonly id = randomId("s", 8);
  state: State = "hello";
  appId = "";
  deviceId = "";
  /** Made its device's session on this relay (and in the engine): detached when it ends. */
  attached = false;
  /** Seconds between heartbeats the device announced, clamped to the server's bounds. */
  heartbeat: number;
  deadline: number;
  lastFrameAt: number;
  /** Cursor: every sequence up to here was pushed on this connection or is never to be pushed. */
  pushedSeq = 0;
  /** Highest sequence actually sent as PUSH; what a HEARTBEAT_ACK reports. */
  lastPushed = 0;
  ackedSeq = 0;
  /** Highest sequence known to exist for the device. */
  knownLatest = 0;
  /** True while the transport's buffer is past its high-water mark; pushes wait for drain. */
  paused = false;
  pausedSince = 0;
  /** The engine was down when this session registered: no signal finds it until it registers again. */
  presenceMissing = false;
  // Created on first use: an idle connection should cost little more than its socket.
  private topicState: SessionTopics | null = null;
  private pending: Map<number, InboxMessage> | null = null;
  private loading: Promise<void> | null = null;
  /** Highest known sequence of a message that is not low priority: lows before it ride along. */
  private urgentSeq = 0;
  /** Stopped at a low-priority message until the device shows it is awake. */
  private parked = false;
  private inflight: Inflight | null = null;
  /** Above `pushedSeq` after a FETCH rewound it: the highest sequence this connection ever pushed. */
  private pushedBeforeRewind = 0;
  /** The token's expiry (the relay's sweep ends the session then, TOKEN_EXPIRED) and issue time (a revocation up to it ends it). */
  tokenExpiresAt = Infinity;
  tokenIssuedAt = 0;

  constructor(
    readonly conn: Connection,
    readonly relay: SessionHost<Session>,
  ) {
    super();
    const now = relay.now();
    this.heartbeat = relay.config.heartbeat.default;
    this.deadline = now + relay.config.heartbeat.min * relay.config.heartbeatGrace * 1000;
    this.lastFrameAt = now;
  }

  get topics(): SessionTopics {
    return (this.topicState ??= new SessionTopics(this));
  }

  receive(bytes: Uint8Array): void {
    if (this.isClosed()) return;
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, DEVICE_FRAMES, this.relay.config.maxFrameBytes);
    } catch (error) {
      this.refuse(error instanceof FrameError ? error : new FrameError("INTERNAL", String(error), { cause: error }));
      return;
    }
    this.relay.metrics.frameIn(FRAME_NAMES[frame.type], bytes.length);
    const now = this.relay.now();
    this.lastFrameAt = now;
    this.deadline = now + this.heartbeat * this.relay.config.heartbeatGrace * 1000;
    // Any frame shows the radio is up: held low-priority messages may go now.
    if (this.parked) {
      this.parked = false;
      if (this.state === "open") this.pump();
    }
    this.accept(frame);
  }

  /** Room for a SUBSCRIBE per topic the device may hold, pipelined behind HELLO. */
  protected waitingLimit(): number {
    return Math.max(512, 2 * this.relay.config.maxTopicsPerConnection);
  }

  protected handle(frame: Frame): Promise<void> | void {
    if (frame.type === FrameType.HELLO) {
      if (this.state !== "hello") throw new FrameError("INVALID_FRAME", "HELLO was already sent on this connection");
      return this.hello(frame);
    }
    if (this.state !== "open") throw new FrameError("HELLO_REQUIRED", "the first frame on a connection must be HELLO");
    switch (frame.type) {
      case FrameType.ACK:
        return this.ack(frame.seq);
      case FrameType.HEARTBEAT:
        return this.heartbeatFrame(frame.interval);
      case FrameType.FETCH:
        return this.fetch(frame.afterSeq);
      case FrameType.SUBSCRIBE:
        return this.topics.subscribe(frame.topic, frame.lastOffset);
      case FrameType.UNSUBSCRIBE:
        return this.topics.unsubscribe(frame.topic);
    }
  }

  private async hello(frame: HelloFrame): Promise<void> {
    this.state = "auth";
    const { store } = this.relay;
    const { appId, device, tokenExpiresAt, tokenIssuedAt } = await checkHello(store, frame, this.relay.now(), this.relay.config.region);
    this.tokenExpiresAt = tokenExpiresAt;
    this.tokenIssuedAt = tokenIssuedAt;
    // Past soft capacity the answer comes later, so probing devices prefer a less loaded node.
    const delay = this.relay.handshakeDelayMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.isClosed()) return;

    this.appId = appId;
    this.deviceId = frame.deviceId;
    const { min, max } = this.relay.config.heartbeat;
    this.heartbeat = Math.min(max, Math.max(min, frame.heartbeat || this.relay.config.heartbeat.default));
    this.relay.metrics.heartbeatInterval(this.heartbeat);
    this.deadline = this.relay.now() + this.heartbeat * this.relay.config.heartbeatGrace * 1000;

    // Register before reading the latest sequence: a send that lands after the read then finds
    // this session's presence, and one that landed before is covered by the read.
    await this.relay.attach(this);
    const { latestSeq: latest, subscriptions } = await store.helloState(appId, frame.deviceId);
    if (this.isClosed()) return;

    const { latestSeq, lastSeq } = await resumePoint(store, appId, frame, device, latest);
    if (this.isClosed()) return;
    this.pushedSeq = lastSeq;
    this.lastPushed = lastSeq;
    this.ackedSeq = lastSeq;
    this.knownLatest = Math.max(this.knownLatest, latestSeq);
    this.state = "open";
    const welcome = { sessionId: this.id, nodeId: this.relay.config.nodeId, latestSeq, heartbeat: this.heartbeat };
    this.send({ type: FrameType.WELCOME, ...welcome, heartbeatMin: min, heartbeatMax: max, epoch: device.epoch });
    if (lastSeq > device.ackedSeq) this.relay.queueAck(this, lastSeq);
    this.pump();
    // A device's own offset older than its subscription would replay what it was never subscribed to.
    for (const { topic, startOffset } of subscriptions.slice(0, this.relay.config.maxTopicsPerConnection)) {
      this.topics.attach(topic, Math.max(frame.topics[topic] ?? 0, startOffset));
    }
    void this.catchUpAfterSync();
  }

  /**
   * The latest sequence a HELLO reads comes from this node's replica. A send committed after the
   * replica last synced and before this session's presence was recorded signalled no one (or the
   * node the device left); a sync started now brings it, so the device need not wait for its next
   * heartbeat to see the gap.
   */
  private async catchUpAfterSync(): Promise<void> {
    try {
      if ((await this.relay.store.freshen()) && !this.isClosed()) await this.refreshLatest();
    } catch (error) {
      this.relay.log("hello_catch_up_failed", { session: this.id, error: String(error) });
    }
  }

  private ack(seq: number): void {
    const highest = Math.max(this.pushedSeq, this.pushedBeforeRewind);
    if (seq > highest) throw new FrameError("ACK_OUT_OF_RANGE", `ack ${seq} is above the highest pushed sequence ${highest}`);
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    if (this.inflight && this.inflight.acked(seq, this.relay.now(), (ms) => this.relay.metrics.deliveryLatency(ms))) this.inflight = null;
    this.relay.queueAck(this, seq);
  }

  private async heartbeatFrame(interval: number): Promise<void> {
    const { min, max } = this.relay.config.heartbeat;
    this.heartbeat = Math.min(max, Math.max(min, interval || this.heartbeat));
    this.relay.metrics.heartbeatInterval(this.heartbeat);
    this.deadline = this.relay.now() + this.heartbeat * this.relay.config.heartbeatGrace * 1000;
    if (this.presenceMissing) void this.relay.registerPresence(this);
    await this.refreshLatest();
    if (this.isClosed()) return;
    this.send({ type: FrameType.HEARTBEAT_ACK, latestSeq: this.lastPushed });
  }

  private async fetch(afterSeq: number): Promise<void> {
    // Rewinding re-sends what the device says it lacks; the SDK drops any it already had. What was
    // pushed before stays acknowledgeable while the re-sends wait (e.g. for the socket to drain).
    if (afterSeq < this.pushedSeq) {
      this.pushedBeforeRewind = Math.max(this.pushedBeforeRewind, this.pushedSeq);
      this.pushedSeq = Math.max(afterSeq, this.ackedSeq);
    }
    this.parked = false;
    await this.refreshLatest();
  }

  /** Reads the device's latest sequence from the store and pushes up to it before returning. */
  private async refreshLatest(): Promise<void> {
    const latest = (await this.relay.store.latestSeq(this.appId, this.deviceId)) ?? this.knownLatest;
    this.knownLatest = Math.max(this.knownLatest, latest);
    if (!this.isClosed()) await this.pumpAndWait();
  }

  /** Takes a message signalled for this device. */
  offer(message: InboxMessage): void {
    if (this.isClosed() || message.seq <= this.pushedSeq) return;
    if (message.seq > this.knownLatest) this.knownLatest = message.seq;
    const pending = (this.pending ??= new Map());
    if (message.collapseKey !== null) {
      // The store already marked older pending messages with this key collapsed.
      for (const [seq, held] of pending) if (held.collapseKey === message.collapseKey && seq < message.seq) pending.delete(seq);
    }
    if (pending.size < MAX_PENDING) pending.set(message.seq, message);
    if (message.priority !== Priority.low && message.seq > this.urgentSeq) {
      this.urgentSeq = message.seq;
      this.parked = false;
    }
    if (this.state === "open") this.pump();
  }

  /** The transport drained below its high-water mark. */
  resume(): void {
    if (!this.paused || this.isClosed()) return;
    this.paused = false;
    this.pump();
    this.topicState?.pumpAll();
  }

  private pump(): void {
    this.pumpAndWait().catch((error: unknown) => this.fail(error));
  }

  private async pumpAndWait(): Promise<void> {
    while (this.state === "open" && !this.paused) {
      if (this.pending?.has(this.pushedSeq + 1)) {
        // Frames that queued up for the device leave in as few socket writes as the transport allows.
        if (this.pending.has(this.pushedSeq + 2)) this.conn.cork(() => this.pushHeld());
        else this.pushHeld();
        if (this.parked) break;
        continue;
      }
      if (this.knownLatest <= this.pushedSeq || this.parked) break;
      // One store read at a time; a caller that finds one running waits for it instead.
      this.loading ??= this.loadPage().finally(() => {
        this.loading = null;
      });
      await this.loading;
    }
    if (this.pending) {
      for (const seq of this.pending.keys()) if (seq <= this.pushedSeq) this.pending.delete(seq);
      if (this.pending.size === 0) this.pending = null;
    }
  }

  /** Pushes the held signals that continue the sequence, up to a low-priority one it must hold. */
  private pushHeld(): void {
    for (let next = this.pending?.get(this.pushedSeq + 1); next && this.state === "open" && !this.paused; next = this.pending?.get(this.pushedSeq + 1)) {
      if (!this.mayPush(next)) {
        this.parked = true;
        return;
      }
      this.pending!.delete(next.seq);
      this.deliver(next);
    }
  }

  private async loadPage(): Promise<void> {
    const knownBefore = this.knownLatest;
    const rows = await this.relay.store.readInbox(this.appId, this.deviceId, this.pushedSeq, REPLAY_PAGE);
    for (const row of rows) if (row.priority !== Priority.low && row.seq > this.urgentSeq) this.urgentSeq = row.seq;
    if (rows.length > 1) this.conn.cork(() => this.pushRows(rows));
    else this.pushRows(rows);
    // Nothing past what was pushed (e.g. a replica behind): stop; the next heartbeat or signal looks again.
    if (rows.length === 0 && this.knownLatest === knownBefore) this.knownLatest = this.pushedSeq;
  }

  private pushRows(rows: InboxMessage[]): void {
    for (const row of rows) {
      if (row.seq <= this.pushedSeq) continue;
      if (this.state !== "open" || this.paused) return;
      if (!this.mayPush(row)) {
        this.parked = true;
        return;
      }
      this.deliver(row);
    }
  }

  /** Low priority never wakes a device: it waits for the device's own traffic or an urgent message behind it. */
  private mayPush(message: InboxMessage): boolean {
    if (message.priority !== Priority.low) return true;
    if (message.seq < this.urgentSeq) return true;
    return this.relay.now() - this.lastFrameAt <= this.relay.config.lowPriorityWakeMs;
  }

  private deliver(message: InboxMessage): void {
    this.pushedSeq = message.seq;
    if (isLapsed(message.expiresAt, this.relay.now())) {
      this.relay.queueExpired(this, message.seq);
      return;
    }
    const frame = pushFrameOf(message, this.relay.config.maxFrameBytes);
    if (typeof frame === "string") {
      // One message must never block a device: it is marked failed and the stream moves past it.
      this.relay.queueFailed(this, message.seq, frame);
      return;
    }
    this.lastPushed = message.seq;
    (this.inflight ??= new Inflight()).pushed(message.seq, message.createdAt);
    this.sendEncoded(frame, "PUSH");
  }

  send(frame: Frame): void {
    this.sendEncoded(encodeFrame(frame), FRAME_NAMES[frame.type]);
  }

  /** Sends bytes encoded once for many sessions (topic fan-out). */
  sendEncoded(bytes: Uint8Array, name: FrameName): void {
    if (this.state === "closed") return;
    this.relay.metrics.frameOut(name, bytes.length);
    if (!this.conn.send(bytes) && !this.paused) {
      this.paused = true;
      this.pausedSince = this.relay.now();
    }
  }

  /** Sends ERROR with the failure's code and closes with the same code. Never throws. */
  fail(error: unknown): void {
    if (this.isClosed()) return;
    const code: WireErrorName = error instanceof FrameError ? error.code : "INTERNAL";
    if (!(error instanceof FrameError)) this.relay.log("session_error", { session: this.id, error: String(error) });
    this.closeWith(code, error instanceof HomeElsewhere ? this.relay.goaway(code, 0, error.home) : undefined, error instanceof Error ? error.message : String(error));
  }

  /**
   * Sends `goaway`, or else ERROR [code, message], then closes with `code`: raw TCP has no close
   * code, so every close says why in a frame (which a full send buffer may still swallow).
   */
  closeWith(code: WireErrorName, goaway?: Frame, message: string = WireError[code].reason): void {
    if (this.isClosed()) return;
    this.state = "closing";
    if (!goaway) this.relay.metrics.error(code);
    this.send(goaway ?? { type: FrameType.ERROR, code: WireError[code].code, message: message.slice(0, 512) });
    this.conn.close(WireError[code].code, code);
    this.closed();
  }

  /** Called by the transport when the socket is gone, and by `closeWith`. Idempotent. */
  closed(): void {
    if (this.state === "closed") return;
    const wasAttached = this.attached;
    this.state = "closed";
    this.pending = null;
    this.inflight = null;
    this.dropWaiting();
    this.topicState?.detachAll();
    if (wasAttached) this.relay.detach(this);
    else this.relay.forget(this);
  }

  isClosed(): boolean {
    return this.state === "closed" || this.state === "closing";
  }

  indexTopic(topic: string): void {
    this.relay.indexTopic(this, topic);
  }

  unindexTopic(topic: string): void {
    this.relay.unindexTopic(this, topic);
  }
}
