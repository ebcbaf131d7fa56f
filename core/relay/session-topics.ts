// A session's topics: one cursor per subscribed topic. Live messages arrive encoded once for all
// sessions; a cursor that is behind (just subscribed, or paused by backpressure) catches up from
// the topic's stream in the store, in offset order, before it takes live messages again.
import type { Config } from "../config.ts";
import type { TopicSignal } from "../engine.ts";
import { isLapsed } from "../lifecycle.ts";
import type { Log } from "../log.ts";
import { type Frame, FrameError, type FrameName, FrameType } from "../protocol.ts";
import type { TopicMessage, TopicStore } from "../store.ts";
import type { MarkQueue, TopicProgress } from "./marks.ts";
import { topicPushFrameOf } from "./push-frames.ts";
import type { RelayMetrics } from "./metrics.ts";

/** What a session's topics need of the session (and, through it, of the relay). */
export interface TopicOwner {
  readonly relay: {
    readonly config: Pick<Config, "maxTopicsPerConnection" | "maxFrameBytes">;
    readonly store: Pick<TopicStore, "subscribeTopic" | "unsubscribeTopic" | "readTopic">;
    readonly now: () => number;
    readonly marks: Pick<MarkQueue, "topicReached">;
    readonly metrics: Pick<RelayMetrics, "undeliverable">;
    readonly log: Log;
  };
  readonly appId: string;
  readonly deviceId: string;
  readonly state: string;
  /** Pushes wait: the connection's send buffer is past its high-water mark. */
  readonly paused: boolean;
  isClosed(): boolean;
  send(frame: Frame): void;
  sendEncoded(bytes: Uint8Array, name: FrameName): void;
  fail(error: unknown): void;
  /** Lists the connection under `topic`, where the relay's fan-out looks. */
  indexTopic(topic: string): void;
  unindexTopic(topic: string): void;
}

type Cursor = TopicProgress & {
  /** Every offset up to here was pushed (or had expired, or could not be pushed). */
  offset: number;
  /** A live message could not be sent as it came: the stream must be read again. */
  behind: boolean;
  loading: Promise<void> | null;
};

const CATCH_UP_PAGE = 256;

export class SessionTopics {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly session: TopicOwner) {}

  get count(): number {
    return this.cursors.size;
  }

  /**
   * SUBSCRIBE: persists the subscription, answers SUBSCRIBED, then starts after `lastOffset` or at
   * the topic's head. A cursor this connection already has stays where it is, and is what the
   * answer reports.
   */
  async subscribe(topic: string, lastOffset: number | null): Promise<void> {
    const { relay, appId, deviceId } = this.session;
    if (!this.cursors.has(topic) && this.cursors.size >= relay.config.maxTopicsPerConnection) {
      throw new FrameError("TOO_MANY_TOPICS", `at most ${relay.config.maxTopicsPerConnection} topics per connection`);
    }
    const head = await relay.store.subscribeTopic(appId, topic, [deviceId], relay.now());
    if (this.session.isClosed()) return;
    const cursor = this.cursors.get(topic);
    const startOffset = cursor ? cursor.offset : (lastOffset ?? head);
    // Before the cursor starts: every TOPIC_PUSH of the topic follows the answer.
    this.session.send({ type: FrameType.SUBSCRIBED, topic, startOffset });
    if (!cursor) this.attach(topic, startOffset);
  }

  /** UNSUBSCRIBE: no TOPIC_PUSH of the topic leaves after the cursor is gone; answers once stored. */
  async unsubscribe(topic: string): Promise<void> {
    const { relay, appId, deviceId } = this.session;
    this.cursors.delete(topic);
    this.session.unindexTopic(topic);
    await relay.store.unsubscribeTopic(appId, topic, [deviceId]);
    if (!this.session.isClosed()) this.session.send({ type: FrameType.UNSUBSCRIBED, topic });
  }

  /** Starts a cursor; `offset` is the last offset the device holds (or where its subscription began). */
  attach(topic: string, offset: number): void {
    if (this.cursors.has(topic)) return;
    const { appId, deviceId, relay } = this.session;
    const cursor: Cursor = { appId, deviceId, topic, offset, queued: false, behind: true, loading: null };
    this.cursors.set(topic, cursor);
    // The device holds everything up to here (its own offset, or where its subscription began).
    if (offset > 0) relay.marks.topicReached(cursor);
    this.session.indexTopic(topic);
    this.catchUp(topic);
  }

  /** A subscription made or removed over HTTP while the device is connected here. */
  follow(topic: string, startOffset: number | null): void {
    if (startOffset === null) {
      this.cursors.delete(topic);
      this.session.unindexTopic(topic);
      return;
    }
    if (this.session.state !== "open" || this.cursors.size >= this.session.relay.config.maxTopicsPerConnection) return;
    this.attach(topic, startOffset);
  }

  detachAll(): void {
    for (const topic of this.cursors.keys()) this.session.unindexTopic(topic);
    this.cursors.clear();
  }

  /** A live topic message: sent as is when the cursor is right behind it, else fetched in order. */
  offer(signal: TopicSignal, frame: Uint8Array): void {
    const cursor = this.cursors.get(signal.topic);
    if (!cursor || signal.offset <= cursor.offset) return;
    if (signal.offset === cursor.offset + 1 && !cursor.loading && !this.session.paused) {
      cursor.offset = signal.offset;
      this.session.sendEncoded(frame, "TOPIC_PUSH");
      this.session.relay.marks.topicReached(cursor);
      return;
    }
    cursor.behind = true;
    this.catchUp(signal.topic);
  }

  pumpAll(): void {
    for (const [topic, cursor] of this.cursors) if (cursor.behind) this.catchUp(topic);
  }

  private catchUp(topic: string): void {
    const cursor = this.cursors.get(topic);
    if (!cursor || cursor.loading) return;
    cursor.loading = this.load(topic, cursor)
      .catch((error: unknown) => this.session.fail(error))
      .finally(() => {
        cursor.loading = null;
      });
  }

  private async load(topic: string, cursor: Cursor): Promise<void> {
    const { relay, appId } = this.session;
    for (;;) {
      if (this.session.isClosed() || this.session.paused || this.cursors.get(topic) !== cursor) return;
      // Cleared before reading: a live message that arrives during the read sets it again.
      cursor.behind = false;
      const rows = await relay.store.readTopic(appId, topic, cursor.offset, CATCH_UP_PAGE);
      // An UNSUBSCRIBE during the read removed the cursor: nothing more of the topic may go.
      if (this.cursors.get(topic) !== cursor) return;
      for (const row of rows) {
        if (row.offset <= cursor.offset) continue;
        if (this.session.isClosed() || this.session.paused) {
          cursor.behind = true;
          return;
        }
        this.push(topic, row);
        cursor.offset = row.offset;
        relay.marks.topicReached(cursor);
      }
      if (rows.length < CATCH_UP_PAGE && !cursor.behind) return;
    }
  }

  /** Sends one stored topic message; an expired or undeliverable one is passed over (the cursor moves on). */
  private push(topic: string, row: TopicMessage): void {
    const { relay } = this.session;
    if (isLapsed(row.expiresAt, relay.now())) return;
    const frame = topicPushFrameOf(topic, row, relay.config.maxFrameBytes);
    if (typeof frame === "string") {
      relay.metrics.undeliverable("topic");
      relay.log("topic_message_undeliverable", { topic, offset: row.offset, reason: frame });
      return;
    }
    this.session.sendEncoded(frame, "TOPIC_PUSH");
  }
}
