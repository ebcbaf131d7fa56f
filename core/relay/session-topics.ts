// A session's topics: one cursor per subscribed topic. Live messages arrive encoded once for all
// sessions; a cursor that is behind (just subscribed, or paused by backpressure) catches up from
// the topic's stream in the store, in offset order, before it takes live messages again.
import type { Config } from "../config.ts";
import type { TopicSignal } from "../engine.ts";
import { type Frame, FrameError, type FrameName, FrameType, uuidToBytes } from "../protocol.ts";
import type { TopicMessage, TopicStore } from "../../store/topic-streams.ts";

/** What a session's topics need of the session (and, through it, of the relay). */
export interface TopicOwner {
  readonly relay: {
    readonly config: Pick<Config, "maxTopicsPerConnection">;
    readonly store: { readonly topics: Pick<TopicStore, "subscribe" | "unsubscribe" | "read"> };
    readonly now: () => number;
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

type Cursor = {
  /** Every offset up to here was pushed (or had expired). */
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
    const head = await relay.store.topics.subscribe(appId, topic, [deviceId], relay.now());
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
    await relay.store.topics.unsubscribe(appId, topic, [deviceId]);
    if (!this.session.isClosed()) this.session.send({ type: FrameType.UNSUBSCRIBED, topic });
  }

  /** Starts a cursor; `offset` is the last offset the device holds (or where its subscription began). */
  attach(topic: string, offset: number): void {
    if (this.cursors.has(topic)) return;
    this.cursors.set(topic, { offset, behind: true, loading: null });
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
      const rows = await relay.store.topics.read(appId, topic, cursor.offset, CATCH_UP_PAGE);
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
      }
      if (rows.length < CATCH_UP_PAGE && !cursor.behind) return;
    }
  }

  private push(topic: string, row: TopicMessage): void {
    if (row.expiresAt !== null && row.expiresAt <= this.session.relay.now()) return;
    this.session.send({
      type: FrameType.TOPIC_PUSH,
      topic,
      offset: row.offset,
      messageId: uuidToBytes(row.messageId),
      priority: row.priority,
      data: row.data,
      sentAt: row.createdAt,
    });
  }
}
