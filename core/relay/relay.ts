// A relay node's state: its sessions, the signals the engine sends it, batched delivery marks,
// heartbeat and stall deadlines, admission (capacity, rate, drain), its entry in the node registry
// and the store polls that stand in for signals while the engine is away (engine-outage.ts).
// Runtime-free; relay/ wires in sockets and the metrics backend.
import { isRevoked } from "../auth.ts";
import { encodeTopicPushFrame } from "../codec.ts";
import type { Config } from "../config.ts";
import { deviceKey, type Engine, type Signal, type TopicSignal } from "../engine.ts";
import type { Log } from "../log.ts";
import { type Frame, FrameType, uuidToBytes, WireError, type WireErrorName } from "../protocol.ts";
import { type AlternativeCandidate, alternativeCandidates, drawAlternatives } from "../ranking.ts";
import type { Store } from "../store.ts";
import { ConnectRateLimiter, handshakeDelay } from "./admission.ts";
import { homeElsewhere } from "./hello-checks.ts";
import { EngineOutage } from "./engine-outage.ts";
import { MarkQueue } from "./marks.ts";
import { type RelayMetrics, noMetrics } from "./metrics.ts";
import { RelaySampler } from "./sampler.ts";
import { SessionIndex } from "./session-index.ts";
import { Session } from "./session.ts";
import type { Connection, SessionHost } from "./session-host.ts";

export type RelayOptions = {
  config: Config;
  store: Store;
  engine: Engine;
  log?: Log;
  metrics?: RelayMetrics;
  now?: () => number;
};

/** Addresses devices reach this node on, for the registry. */
export type RelayAddresses = { ws: string; tcp: string; ips?: string[] };

export type DrainState = "serving" | "draining" | "drained";

const SWEEP_MS = 1000;
const DRAIN_WAVE_MS = 100;
/** Alternatives per GOAWAY. */
const MAX_ALTERNATIVES = 8;

export class Relay implements SessionHost<Session> {
  readonly config: Config;
  readonly store: Store;
  readonly engine: Engine;
  readonly log: Log;
  readonly metrics: RelayMetrics;
  private readonly sampler: RelaySampler;
  readonly now: () => number;
  /** Every open connection: in its handshake, or authenticated by device. */
  private readonly all = new SessionIndex<Session>();
  private readonly byTopic = new Map<string, Set<Session>>();
  /** Acks, expired and failed rows, topic progress: written in batches every ackFlushMs. */
  readonly marks: MarkQueue;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private readonly rateLimiter: ConnectRateLimiter;
  /** Other nodes that may take devices, refreshed with every load report; each GOAWAY draws its own order. */
  private candidates: AlternativeCandidate[] = [];
  private readonly outage: EngineOutage;
  private drainTimer: ReturnType<typeof setInterval> | null = null;
  private stopping = false;
  private shuttingDown = false;
  drainState: DrainState = "serving";

  constructor(options: RelayOptions) {
    this.config = options.config;
    this.store = options.store;
    this.engine = options.engine;
    this.log = options.log ?? (() => {});
    this.sampler = new RelaySampler(options.metrics ?? noMetrics);
    this.metrics = this.sampler;
    this.now = options.now ?? Date.now;
    this.rateLimiter = new ConnectRateLimiter(this.config.connectRatePerIp, this.config.connectBurstPerIp);
    this.marks = new MarkQueue(this.store, this.config.ackFlushMs, this.now, this.log, this.config.topicMarkFlushMs);
    const { store, engine, now, log } = this;
    this.outage = new EngineOutage({ store, engine, now, log, sessions: () => this.all.attached() });
  }

  async start(addresses: RelayAddresses): Promise<void> {
    this.outage.start();
    await this.listen();
    const now = this.now();
    await this.store.upsertNode({
      id: this.config.nodeId,
      region: this.config.region,
      wsUrl: addresses.ws,
      tcpAddr: addresses.tcp,
      ips: addresses.ips ?? [],
      capacity: this.config.capacity,
      connections: 0,
      draining: false,
      version: this.config.version,
      weight: this.config.weight,
      startedAt: now,
      updatedAt: now,
    });
    await this.report();
    this.timers.push(
      setInterval(() => this.sweep(), SWEEP_MS),
      setInterval(() => void this.report(), this.config.nodeReportMs),
      setInterval(() => void this.recordSample(), this.config.relaySampleMs),
    );
  }

  /**
   * Subscribes to this node's signals and to topic broadcasts. With the engine down the relay
   * still serves (deliveries then come from store polls) and keeps trying in the background.
   */
  private async listen(): Promise<void> {
    try {
      this.unsubscribers.push(
        await this.engine.subscribe(this.config.nodeId, (signal) => this.onSignal(signal)),
        await this.engine.onTopic((signal) => this.onTopic(signal)),
      );
      this.outage.subscription(true);
    } catch (error) {
      this.outage.subscription(false);
      for (const u of this.unsubscribers.splice(0)) await u().catch(() => undefined);
      this.log("engine_subscribe_failed", { error: String(error) });
      if (!this.stopping) setTimeout(() => void this.listen(), 1000);
    }
  }

  /** A new transport connection: admitted, or sent away with a reason and somewhere else to go. */
  open(conn: Connection): Session {
    const session = new Session(conn, this);
    const refusal = this.admit(conn);
    if (refusal) {
      this.metrics.refused(refusal);
      const retryAfterMs = refusal === "RATE_LIMITED" ? this.rateLimiter.take(conn.remoteAddress, this.now()) : 0;
      session.closeWith(refusal, this.goaway(refusal, retryAfterMs));
      return session;
    }
    this.all.add(session);
    return session;
  }

  private admit(conn: Connection): WireErrorName | null {
    if (this.stopping) return "SERVER_SHUTDOWN";
    if (this.drainState !== "serving") return "NODE_DRAINING";
    if (this.all.size >= this.config.capacity) return "OVERLOADED";
    if (this.rateLimiter.take(conn.remoteAddress, this.now()) > 0) return "RATE_LIMITED";
    return null;
  }

  handshakeDelayMs(): number {
    const softCapacity = this.config.softCapacity ?? Math.floor(this.config.capacity * 0.8);
    return handshakeDelay(this.all.size, { capacity: this.config.capacity, softCapacity, softDelayMs: this.config.softDelayMs });
  }

  get connections(): { ws: number; tcp: number } {
    return this.all.transports;
  }

  /** Gauges read at scrape time. */
  snapshot() {
    let buffered = 0;
    let paused = 0;
    this.all.forEach((s) => {
      buffered += s.conn.buffered();
      if (s.paused) paused++;
    });
    return {
      connections: this.connections,
      bufferedBytes: buffered,
      pausedSessions: paused,
      pendingAcks: this.marks.pendingAcks,
      topics: this.byTopic.size,
      drainState: this.drainState,
    };
  }

  /** Makes `session` the device's one session on this node and in the engine. */
  async attach(session: Session): Promise<void> {
    session.attached = true;
    const local = this.all.attach(session);
    if (local && local !== session) local.closeWith("SESSION_REPLACED");
    await this.registerPresence(session);
  }

  /** Records presence in the engine; on failure the session retries at its next heartbeat. */
  async registerPresence(session: Session): Promise<void> {
    try {
      const previous = await this.engine.setPresence(deviceKey(session.appId, session.deviceId), { nodeId: this.config.nodeId, sessionId: session.id });
      if (previous && previous.nodeId !== this.config.nodeId) {
        await this.engine.publish(previous.nodeId, [
          { kind: "kick", appId: session.appId, deviceId: session.deviceId, sessionId: previous.sessionId },
        ]);
      }
      session.presenceMissing = false;
    } catch (error) {
      // Without presence no signal finds this session: store polls and its heartbeats serve it.
      session.presenceMissing = true;
      this.outage.callFailed();
      this.log("presence_failed", { device: deviceKey(session.appId, session.deviceId), error: String(error) });
    }
  }

  detach(session: Session): void {
    if (this.all.detach(session)) {
      this.engine.clearPresence(deviceKey(session.appId, session.deviceId), session.id).catch((error: unknown) => {
        this.outage.callFailed();
        this.log("presence_clear_failed", { device: deviceKey(session.appId, session.deviceId), error: String(error) });
      });
    }
    this.checkDrained();
  }

  forget(session: Session): void {
    this.all.forget(session);
    this.checkDrained();
  }

  indexTopic(session: Session, topic: string): void {
    const key = `${session.appId}/${topic}`;
    let set = this.byTopic.get(key);
    if (!set) this.byTopic.set(key, (set = new Set()));
    set.add(session);
  }

  unindexTopic(session: Session, topic: string): void {
    const key = `${session.appId}/${topic}`;
    const set = this.byTopic.get(key);
    set?.delete(session);
    if (set?.size === 0) this.byTopic.delete(key);
  }

  /** Gone from this home's store: erased, or moved to another home (the directory says where; its relays are the alternatives). */
  private async closeErased(session: Session): Promise<void> {
    const home = await homeElsewhere(this.store, this.config.region, session.appId, session.deviceId).catch(() => null);
    if (home) session.closeWith("HOME_ELSEWHERE", this.goaway("HOME_ELSEWHERE", 0, home));
    else session.closeWith("DEVICE_UNKNOWN", undefined, "the device was erased");
  }

  private onSignal(signal: Signal): void {
    const session = this.all.get(signal.appId, signal.deviceId);
    if (!session) return;
    if (signal.kind === "deliver") session.offer(signal.message);
    else if (signal.kind === "subscription") session.topics.follow(signal.topic, signal.startOffset);
    else if (signal.kind === "erased") void this.closeErased(session);
    else if (signal.kind === "revoked") {
      if (isRevoked(session.tokenIssuedAt, signal.revokedAt)) session.closeWith("TOKEN_REVOKED");
    }
    else if (signal.sessionId === session.id) session.closeWith("SESSION_REPLACED");
  }

  /** Fan-out: the frame is built once around the message's bytes and the same bytes go to every subscribed connection. */
  private onTopic(signal: TopicSignal): void {
    const sessions = this.byTopic.get(`${signal.appId}/${signal.topic}`);
    if (!sessions || sessions.size === 0) return;
    const { message } = signal;
    let frame: Uint8Array;
    try {
      frame = encodeTopicPushFrame({
        topic: signal.topic,
        offset: signal.offset,
        messageId: uuidToBytes(message.messageId),
        priority: message.priority,
        data: message.data,
        sentAt: message.createdAt,
      });
    } catch (error) {
      // Not sent live: each cursor meets it in the stream, where it is skipped by itself.
      this.log("topic_frame_failed", { topic: signal.topic, offset: signal.offset, error: String(error) });
      return;
    }
    for (const session of sessions) session.topics.offer(signal, frame);
  }

  queueAck(session: Session, seq: number): void {
    this.marks.ack(session, { appId: session.appId, deviceId: session.deviceId, seq });
  }

  queueExpired(session: Session, seq: number): void {
    this.marks.expired({ appId: session.appId, deviceId: session.deviceId, seq });
  }

  /** A row this relay cannot push (see Session.deliver): it is marked failed and the device's stream moves on. */
  queueFailed(session: Session, seq: number, reason: string): void {
    this.metrics.undeliverable("inbox");
    this.log("message_undeliverable", { device: deviceKey(session.appId, session.deviceId), seq, reason });
    this.marks.failed({ appId: session.appId, deviceId: session.deviceId, seq, reason });
  }

  /** Writes every queued mark now. */
  flush(): Promise<void> {
    return this.marks.flush();
  }

  private sweep(): void {
    const now = this.now();
    this.all.forEach((session) => {
      if (session.deadline < now) session.closeWith("HEARTBEAT_TIMEOUT");
      else if (session.tokenExpiresAt <= now) session.closeWith("TOKEN_EXPIRED");
      else if (session.paused && now - session.pausedSince > this.config.stallTimeoutMs) session.closeWith("SLOW_CONSUMER");
    });
    this.rateLimiter.sweep(now);
  }

  /** Reports load, reads the drain flag an operator may have set, and refreshes alternatives. */
  private async recordSample(): Promise<void> {
    const node = { nodeId: this.config.nodeId, region: this.config.region };
    await this.sampler.record(this.store, node, this.now()).catch((error) => this.log("relay_sample_failed", { error: String(error) }));
  }

  private async report(): Promise<void> {
    try {
      const { ws, tcp } = this.connections;
      const row = await this.store.reportNodeLoad(this.config.nodeId, ws + tcp, this.now());
      this.candidates = alternativeCandidates(await this.store.listNodes(), this.config, this.now());
      if (row?.draining && this.drainState === "serving") this.startDrain();
      // An operator's undrain ends an operator's drain; a shutdown's drain runs to the end.
      else if (row && !row.draining && this.drainState !== "serving" && !this.stopping && !this.shuttingDown) this.stopDrain();
    } catch (error) {
      this.log("node_report_failed", { error: String(error) });
    }
  }

  /** Ids of the nodes this relay's GOAWAYs may offer, nearest first. */
  get alternativeNodes(): string[] {
    return this.candidates.map((c) => c.alternative[0]);
  }

  /** Each GOAWAY draws its own order of alternatives, so the devices sent away spread by weight and free room; `region`: only there. */
  goaway(reason: WireErrorName, retryAfterMs = 0, region?: string): Frame {
    const candidates = region === undefined ? this.candidates : this.candidates.filter((c) => c.region === region);
    const alternatives = drawAlternatives(candidates, MAX_ALTERNATIVES);
    return { type: FrameType.GOAWAY, reason: WireError[reason].code, alternatives, retryAfterMs };
  }

  /** Stops accepting and sends devices away in paced waves, `drainRate` per second. */
  startDrain(reason: WireErrorName = "NODE_DRAINING", rate = this.config.drainRate): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainState = "draining";
    this.log("drain_started", { connections: this.all.size, rate });
    const perWave = Math.max(1, Math.ceil((rate * DRAIN_WAVE_MS) / 1000));
    const wave = () => {
      let sent = 0;
      for (const session of this.all.list()) {
        if (sent++ >= perWave) break;
        session.closeWith(reason, this.goaway(reason));
      }
      this.checkDrained();
    };
    wave();
    this.drainTimer = setInterval(wave, DRAIN_WAVE_MS);
  }

  private stopDrain(): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
    this.drainState = "serving";
    this.log("drain_cancelled", {});
  }

  private checkDrained(): void {
    if (this.drainState !== "draining" || this.all.size > 0) return;
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
    this.drainState = "drained";
    this.log("drained", { node: this.config.nodeId });
    void this.report();
  }

  /** Resolves once the node holds no connection, or after `timeoutMs`. */
  async waitDrained(timeoutMs: number): Promise<boolean> {
    const until = this.now() + timeoutMs;
    while (this.all.size > 0 && this.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.all.size === 0;
  }

  /**
   * Graceful stop: drains within `graceMs` (devices get GOAWAY with alternatives), closes what is
   * left, and writes every pending delivery mark.
   */
  async stop(graceMs = 0): Promise<void> {
    this.shuttingDown = true;
    if (graceMs > 0 && this.all.size > 0) {
      await this.store.setNodeDraining(this.config.nodeId, true, "shutdown").catch(() => false);
      // Fast enough to finish within the grace period, never slower than the configured rate.
      this.startDrain("SERVER_SHUTDOWN", Math.max(this.config.drainRate, (this.all.size * 1000) / Math.max(1, graceMs * 0.8)));
      await this.waitDrained(graceMs);
    }
    this.stopping = true;
    this.outage.stop();
    for (const t of this.timers) clearInterval(t);
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.marks.stop();
    await Promise.all(this.unsubscribers.map((u) => u()));
    for (const session of this.all.list()) session.closeWith("SERVER_SHUTDOWN", this.goaway("SERVER_SHUTDOWN"));
    await this.flush();
    await this.report();
  }
}
