// A relay's minute-by-minute figures for the dashboard: it sits in front of the relay's metrics,
// counts the pushes it sends and the acks it times, and writes each minute's figures to the store:
// every `relaySampleMs` the minute so far, replacing what it wrote for that minute before.
import type { FrameName, WireErrorName } from "../protocol.ts";
import type { RelaySample, Store } from "../store.ts";
import type { RelayMetrics } from "./metrics.ts";

export const SAMPLE_MS = 60_000;
/** Samples are kept this long: the dashboard charts the last hour. */
export const SAMPLE_KEEP_MS = 2 * 60 * 60_000;

/** The q-quantile (0..1) of sorted values, nearest rank, in whole milliseconds. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

export class RelaySampler implements RelayMetrics {
  private pushed = 0;
  private latencies: number[] = [];
  /** The minute the counts belong to; null before the first take. */
  private minute: number | null = null;

  constructor(private readonly inner: RelayMetrics) {}

  frameIn(type: FrameName, bytes: number): void {
    this.inner.frameIn(type, bytes);
  }
  frameOut(type: FrameName, bytes: number): void {
    if (type === "PUSH" || type === "TOPIC_PUSH") this.pushed++;
    this.inner.frameOut(type, bytes);
  }
  error(code: WireErrorName): void {
    this.inner.error(code);
  }
  deliveryLatency(ms: number): void {
    this.latencies.push(ms);
    this.inner.deliveryLatency(ms);
  }
  heartbeatInterval(seconds: number): void {
    this.inner.heartbeatInterval(seconds);
  }
  refused(reason: WireErrorName): void {
    this.inner.refused(reason);
  }
  undeliverable(kind: "inbox" | "topic"): void {
    this.inner.undeliverable(kind);
  }

  /**
   * The figures of the minute being counted (the one the first take fell in), so far; once `now` is
   * in a later minute, the counts start again for it.
   */
  take(node: { nodeId: string; region: string }, now: number): RelaySample {
    const current = now - (now % SAMPLE_MS);
    const minute = this.minute ?? current;
    const sorted = this.latencies.sort((a, b) => a - b);
    const sample = {
      ...node,
      at: minute,
      pushed: this.pushed,
      delivered: sorted.length,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
    };
    this.minute = current;
    if (current !== minute) {
      this.pushed = 0;
      this.latencies = [];
    }
    return sample;
  }

  /** Takes a sample and records it, pruning old ones. */
  async record(store: Store, node: { nodeId: string; region: string }, now: number): Promise<void> {
    await store.recordRelaySample(this.take(node, now), now - SAMPLE_KEEP_MS);
  }
}
