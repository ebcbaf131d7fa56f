// What a relay reports to its metrics; relay/metrics.ts implements it with a Prometheus client.
import type { FrameName, WireErrorName } from "../protocol.ts";

export interface RelayMetrics {
  frameIn(type: FrameName, bytes: number): void;
  frameOut(type: FrameName, bytes: number): void;
  error(code: WireErrorName): void;
  /** Milliseconds from the edge accepting a message to the device acknowledging it. */
  deliveryLatency(ms: number): void;
  /** The heartbeat interval a device announced, after clamping. */
  heartbeatInterval(seconds: number): void;
  /** A connection turned away before its handshake (capacity, drain, rate limit). */
  refused(reason: WireErrorName): void;
  /** A stored message this relay could not push (its row is marked failed, or a topic stream skips it). */
  undeliverable(kind: "inbox" | "topic"): void;
}

export const noMetrics: RelayMetrics = {
  frameIn() {},
  frameOut() {},
  error() {},
  deliveryLatency() {},
  heartbeatInterval() {},
  refused() {},
  undeliverable() {},
};
