// Prometheus metrics for a relay, served at /metrics on its WebSocket listener.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Relay } from "../core/relay/relay.ts";
import type { RelayMetrics } from "../core/relay/metrics.ts";
import type { FrameName } from "../core/protocol.ts";

export type PrometheusMetrics = RelayMetrics & { registry: Registry; watch(relay: Relay): void };

export function prometheusMetrics(nodeId: string): PrometheusMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry, prefix: "pushmesh_relay_process_" });
  // Frames are counted in plain numbers and copied into the counters when scraped: a labelled
  // inc() hashes its labels on every call, two of them per frame cost ~2 µs of a relay's ~15 µs
  // per pushed frame (profile of the throughput benchmark).
  const tally = { in: new Map<FrameName, { frames: number; bytes: number }>(), out: new Map<FrameName, { frames: number; bytes: number }>() };
  const count = (direction: "in" | "out", type: FrameName, n: number) => {
    const t = tally[direction].get(type);
    if (t) {
      t.frames++;
      t.bytes += n;
    } else tally[direction].set(type, { frames: 1, bytes: n });
  };
  const fromTally = (field: "frames" | "bytes") =>
    function (this: Counter) {
      this.reset();
      for (const direction of ["in", "out"] as const) for (const [type, t] of tally[direction]) this.inc({ direction, type }, t[field]);
    };
  new Counter({ name: "pushmesh_frames_total", help: "Frames by direction and type", labelNames: ["direction", "type"], registers: [registry], collect: fromTally("frames") });
  new Counter({
    name: "pushmesh_frame_bytes_total",
    help: "Frame bytes (CBOR, before transport framing) by direction and type",
    labelNames: ["direction", "type"],
    registers: [registry],
    collect: fromTally("bytes"),
  });
  const errors = new Counter({ name: "pushmesh_errors_total", help: "Wire errors sent, by code", labelNames: ["code"], registers: [registry] });
  const refused = new Counter({ name: "pushmesh_connections_refused_total", help: "Connections turned away before the handshake, by reason", labelNames: ["reason"], registers: [registry] });
  const undeliverable = new Counter({
    name: "pushmesh_undeliverable_total",
    help: "Stored messages the relay could not push and moved past, by stream (inbox rows are marked failed)",
    labelNames: ["stream"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "pushmesh_delivery_latency_seconds",
    help: "From the edge accepting a message to the device acknowledging it",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600],
    registers: [registry],
  });
  const heartbeats = new Histogram({
    name: "pushmesh_heartbeat_interval_seconds",
    help: "Heartbeat intervals devices announced (after clamping)",
    buckets: [5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  // Gauges are read from the relay when scraped, so the hot path never updates them.
  let watched: Relay | null = null;
  let cached: { at: number; value: ReturnType<Relay["snapshot"]> } | null = null;
  const snapshot = () => {
    if (!watched) return null;
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, value: watched.snapshot() };
    return cached.value;
  };
  const gauge = (name: string, help: string, read: (s: ReturnType<Relay["snapshot"]>, g: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const s = snapshot();
        if (s) read(s, this);
      },
    });
  gauge("pushmesh_connections", "Open connections by transport", (s, g) => {
    g.set({ transport: "ws" }, s.connections.ws);
    g.set({ transport: "tcp" }, s.connections.tcp);
  }, ["transport"]);
  gauge("pushmesh_send_buffer_bytes", "Bytes accepted for sending but not yet written, all connections", (s, g) => g.set(s.bufferedBytes));
  gauge("pushmesh_paused_connections", "Connections past their send-buffer high-water mark", (s, g) => g.set(s.pausedSessions));
  gauge("pushmesh_pending_delivery_marks", "Devices with acks not yet written to the store", (s, g) => g.set(s.pendingAcks));
  gauge("pushmesh_drain_state", "0 serving, 1 draining, 2 drained", (s, g) => g.set({ serving: 0, draining: 1, drained: 2 }[s.drainState]));

  return {
    registry,
    frameIn: (type, n) => count("in", type, n),
    frameOut: (type, n) => count("out", type, n),
    error: (code) => errors.inc({ code }),
    refused: (reason) => refused.inc({ reason }),
    undeliverable: (stream) => undeliverable.inc({ stream }),
    deliveryLatency: (ms) => latency.observe(ms / 1000),
    heartbeatInterval: (s) => heartbeats.observe(s),
    watch(relay) {
      watched = relay;
    },
  };
}
