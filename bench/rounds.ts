// The send loop both servers run in the throughput benchmark, so the only difference between the
// pushmesh relay and the raw baseline is what one round does. Round r sends message r to every
// device (or publishes it to the topic). Flow control is end to end and the same for both: the
// device processes report how many frames they have taken, the parent forwards the sum, and a
// round goes out only while fewer than `window` frames are in flight.

export class Progress {
  received = 0;
  private waiters: (() => void)[] = [];

  update(received: number): void {
    this.received = received;
    for (const w of this.waiters.splice(0)) w();
  }

  reset(): void {
    this.received = 0;
  }

  /** Resolves at the next update, or after `ms` (so a stuck run is noticed). */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export type Drive = {
  rounds: number;
  /** Frames one round sends (devices, or subscribers for a topic message). */
  perRound: number;
  /** Frames allowed in flight: sent but not yet counted by the devices. */
  window: number;
  progress: Progress;
  sendRound(round: number): void | Promise<void>;
};

/** Sends every round; yields to the event loop between rounds so sockets are written and read. */
export async function driveRounds(d: Drive): Promise<{ waits: number }> {
  let sent = 0;
  let waits = 0;
  const stuckAfter = 20_000;
  for (let r = 1; r <= d.rounds; r++) {
    let lastChange = performance.now();
    let seen = d.progress.received;
    while (sent - d.progress.received > d.window - d.perRound) {
      waits++;
      await d.progress.changed(1000);
      if (d.progress.received !== seen) {
        seen = d.progress.received;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stuckAfter) {
        throw new Error(`no progress for ${stuckAfter} ms at round ${r}: ${sent - d.progress.received} frames sent but not received`);
      }
    }
    await d.sendRound(r);
    sent += d.perRound;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { waits };
}

/** The `data` every benchmark message carries: the wire benchmark's sample PUSH (98 bytes as a frame). */
export const PAYLOAD = { title: "Order shipped", body: "Your parcel is on its way", orderId: 88123 };
export const TOPIC = "bench-fanout";
