// What a relay records about its deliveries, queued and written in batches: every `ackFlushMs`
// acknowledgements (delivered up to a seq) and rows that expired or failed at push time; every
// `topicMarkFlushMs` how far each subscriber's topics got, which at thousands of subscribers is a
// row per subscriber per flush. A batch that fails to write is queued again; a mark still lost at
// shutdown only means the device's next HELLO acknowledges it.
import { deviceKey } from "../engine.ts";
import type { Log } from "../log.ts";
import type { DeliveryMark, DeliveryStore, FailureMark } from "../store.ts";

/** A subscriber's place in a topic; queued once until the next flush however many frames move it. */
export type TopicProgress = { readonly appId: string; readonly deviceId: string; readonly topic: string; offset: number; queued: boolean };

type MarkStore = Pick<DeliveryStore, "markDelivered" | "markExpired" | "markFailed" | "markTopicDelivered">;

export class MarkQueue {
  /** The highest ack per device, keyed by its session (no string per ack) or, once a write failed, by its device key. */
  private acks = new Map<object | string, DeliveryMark>();
  private expiries: DeliveryMark[] = [];
  private failures: FailureMark[] = [];
  private topics: TopicProgress[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private topicTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: MarkStore,
    private readonly flushMs: number,
    private readonly now: () => number,
    private readonly log: Log,
    private readonly topicFlushMs = flushMs,
  ) {}

  get pendingAcks(): number {
    return this.acks.size;
  }

  /** The device acknowledged everything up to `seq`; `key` is its session, or its device key. */
  ack(key: object | string, mark: DeliveryMark): void {
    const existing = this.acks.get(key);
    if (!existing || existing.seq < mark.seq) this.acks.set(key, mark);
    this.schedule();
  }

  expired(mark: DeliveryMark): void {
    this.expiries.push(mark);
    this.schedule();
  }

  failed(mark: FailureMark): void {
    this.failures.push(mark);
    this.schedule();
  }

  topicReached(progress: TopicProgress): void {
    if (progress.queued) return;
    progress.queued = true;
    this.topics.push(progress);
    if (this.stopped) return;
    this.topicTimer ??= setTimeout(() => {
      this.topicTimer = null;
      void this.flush(true);
    }, this.topicFlushMs);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush(false);
    }, this.flushMs);
  }

  /** Writes what is queued (topic progress too unless `withTopics` is false); what fails to write is queued again. */
  flush(withTopics = true): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const acks = [...this.acks.values()];
      const { expiries: expired, failures: failed } = this;
      const topics = withTopics ? this.topics : [];
      this.acks.clear();
      this.expiries = [];
      this.failures = [];
      if (withTopics) this.topics = [];
      if (acks.length + expired.length + failed.length + topics.length === 0) return;
      const reached = topics.map((t) => {
        t.queued = false;
        return { appId: t.appId, deviceId: t.deviceId, topic: t.topic, offset: t.offset };
      });
      try {
        await this.store.markExpired(expired);
        await this.store.markFailed(failed);
        await this.store.markDelivered(acks, this.now());
        await this.store.markTopicDelivered(reached);
      } catch (error) {
        this.log("delivery_marks_failed", { acks: acks.length, error: String(error) });
        for (const mark of acks) this.ack(deviceKey(mark.appId, mark.deviceId), mark);
        this.expiries.push(...expired);
        this.failures.push(...failed);
        for (const t of topics) this.topicReached(t);
        this.schedule();
      }
    });
    return this.flushing;
  }

  /** No more timers; the caller's last flush() writes what is left. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.topicTimer) clearTimeout(this.topicTimer);
    this.timer = null;
    this.topicTimer = null;
  }
}
