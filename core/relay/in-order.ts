// A connection's frames are handled one at a time, in the order they arrived: a frame's effects
// and answers all come before the next frame's, so a device may pipeline frames (SUBSCRIBE
// right behind HELLO) and a refused frame is answered in its turn, after what came before it.
import { type Frame, FrameError, FrameType } from "../protocol.ts";

export abstract class InOrderFrames {
  /** A frame is being handled; frames arriving meanwhile wait in `waiting` (created when needed). */
  private handling = false;
  private waiting: (Frame | FrameError)[] | null = null;

  /** Returns a promise only when the frame's handling goes on after this call. */
  protected abstract handle(frame: Frame): Promise<void> | void;
  /** How many frames may wait behind the one being handled; past it the peer is flooding. */
  protected abstract waitingLimit(): number;
  abstract fail(error: unknown): void;
  abstract isClosed(): boolean;

  /** A frame that passed its checks. Frames with synchronous handlers (ACK) allocate nothing here. */
  protected accept(frame: Frame): void {
    if (this.handling) this.wait(frame);
    else this.handleInOrder(frame);
  }

  /** A frame that failed its checks: it ends the session when its turn comes. */
  refuse(error: FrameError): void {
    if (this.isClosed()) return;
    if (this.handling) this.wait(error);
    else this.fail(error);
  }

  protected dropWaiting(): void {
    this.waiting = null;
  }

  private wait(item: Frame | FrameError): void {
    const waiting = (this.waiting ??= []);
    const last = waiting.at(-1);
    // The session ends at the refused frame it holds: nothing after it will be handled.
    if (last instanceof FrameError) return;
    // ACK is cumulative, so a run of waiting ACKs is one ACK of the highest: a device acking a
    // long replay while a HEARTBEAT waits for it cannot fill the queue.
    if (last?.type === FrameType.ACK && !(item instanceof FrameError) && item.type === FrameType.ACK) {
      last.seq = Math.max(last.seq, item.seq);
      return;
    }
    if (waiting.length < this.waitingLimit()) waiting.push(item);
    else this.fail(new FrameError("FRAME_QUEUE_FULL", `more than ${waiting.length} frames arrived while an earlier one was being handled`));
  }

  private handleInOrder(item: Frame | FrameError | undefined): void {
    this.handling = true;
    while (item !== undefined && !this.isClosed()) {
      let pending: Promise<void> | void;
      try {
        if (item instanceof FrameError) throw item;
        pending = this.handle(item);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (pending) {
        pending.then(
          () => this.handleInOrder(this.waiting?.shift()),
          (error: unknown) => this.fail(error),
        );
        return;
      }
      item = this.waiting?.shift();
    }
    this.handling = false;
    this.waiting = null;
  }
}
