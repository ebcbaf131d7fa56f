// The app's SUBSCRIBE and UNSUBSCRIBE requests until the relay answers them. The relay handles a
// connection's frames in order, so an answer (SUBSCRIBED, UNSUBSCRIBED, or an ERROR refusing a
// request) is always for the oldest request sent on that connection. A connection that drops takes
// its answers with it: what is left goes out again after the next WELCOME (both are idempotent).
import { type Frame, FrameError, FrameType, type SubscribedFrame, TOPIC_PATTERN, type UnsubscribedFrame, WIRE_ERROR_NAMES, WireError } from "../protocol.ts";

export type TopicRequest = {
  type: typeof FrameType.SUBSCRIBE | typeof FrameType.UNSUBSCRIBE;
  topic: string;
  resolve(startOffset: number): void;
  reject(error: Error): void;
};

/** Codes that refuse a topic request: it is not sent again. */
const REFUSALS = new Set<number>([WireError.TOPIC_INVALID.code, WireError.TOO_MANY_TOPICS.code]);

export class TopicRequests {
  private readonly requests: TopicRequest[] = [];
  /** How many of `requests`, from the first, went out on the current connection. */
  private sent = 0;
  /** WELCOME arrived on the current connection: requests go out as they are made. */
  private open = false;
  /** Set for good when the client stops: later requests are refused with it. */
  private stopped: Error | null = null;

  constructor(
    private readonly send: (frame: Frame) => void,
    /** The offset the device holds for a topic, for SUBSCRIBE's lastOffset. */
    private readonly lastOffset: (topic: string) => number | null,
  ) {}

  add(type: TopicRequest["type"], topic: string): Promise<number> {
    if (this.stopped) return Promise.reject(this.stopped);
    // A bad name would cost the connection (TOPIC_INVALID closes it): refuse it here.
    if (!TOPIC_PATTERN.test(topic)) return Promise.reject(new FrameError("TOPIC_INVALID", `not a topic name: ${JSON.stringify(topic)}`));
    const answer = new Promise<number>((resolve, reject) => this.requests.push({ type, topic, resolve, reject }));
    if (this.open) this.sendPending();
    return answer;
  }

  /** WELCOME: what was not answered on an earlier connection goes out now. */
  welcomed(): void {
    this.open = true;
    this.sendPending();
  }

  private sendPending(): void {
    for (; this.sent < this.requests.length; this.sent++) {
      const { type, topic } = this.requests[this.sent]!;
      if (type === FrameType.SUBSCRIBE) this.send({ type, topic, lastOffset: this.lastOffset(topic) });
      else this.send({ type, topic });
    }
  }

  /** The request an answer settles; null for an answer no request is waiting for. */
  answered(frame: SubscribedFrame | UnsubscribedFrame): TopicRequest | null {
    const request = this.requests[0];
    const asked = frame.type === FrameType.SUBSCRIBED ? FrameType.SUBSCRIBE : FrameType.UNSUBSCRIBE;
    if (this.sent === 0 || request?.type !== asked || request.topic !== frame.topic) return null;
    this.sent--;
    return this.requests.shift()!;
  }

  /** An ERROR after WELCOME: rejects the request it refuses, if it is a refusal. */
  refused(code: number, message: string): void {
    if (this.sent === 0 || !REFUSALS.has(code)) return;
    this.sent--;
    this.requests.shift()!.reject(new FrameError(WIRE_ERROR_NAMES.get(code)!, message));
  }

  connectionLost(): void {
    this.open = false;
    this.sent = 0;
  }

  /** No answer will come: the client stopped, or the relay refused the device for good. */
  stop(error: Error): void {
    this.stopped = error;
    for (const request of this.requests.splice(0)) request.reject(error);
    this.sent = 0;
  }
}
