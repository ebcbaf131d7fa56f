// A child process holding many light devices, over WebSocket and raw TCP. Against a pushmesh relay
// each device says HELLO and counts as connected at WELCOME; against the raw baseline server it
// counts as connected when the socket opens. Either way it counts PUSH and TOPIC_PUSH frames,
// checks that each device's seqs come one after another, and ACKs its highest seq every 20 ms
// (as the SDK does), so both servers see the same client traffic. The SDK is not used: at
// thousands of devices per process its per-message promise chain would make the clients, not
// the server, the thing measured.
import type { Socket } from "bun";
import { decodeFrame, encodeFrame, lengthPrefixed } from "../core/codec.ts";
import { FrameType, PROTOCOL_VERSION, SERVER_FRAMES } from "../core/protocol.ts";
import { cpuSeconds, epochMs, serveParent } from "./child-process.ts";

export type SwarmDevice = { deviceId: string; token: string; transport: "ws" | "tcp"; /** raw baseline: join its topic */ topic?: boolean };
export type SwarmConnect = { mode: "pushmesh" | "raw"; ws: string; tcp: string; devices: SwarmDevice[]; concurrency?: number; timeoutMs?: number };
export type SwarmStats = { devices: number; connected: number; pushes: number; topicPushes: number; outOfOrder: number; closedByServer: number; acksSent: number; cpuSeconds: number };

type Device = {
  spec: SwarmDevice;
  send(bytes: Uint8Array): void;
  close(): void;
  connected: boolean;
  closing: boolean;
  lastSeq: number;
  ackedSeq: number;
};

const ACK_EVERY_MS = 20;
/** The HELLO heartbeat: the server's maximum, so idle devices need not send anything for 25 minutes. */
const HEARTBEAT_S = 600;

const devices: Device[] = [];
const dirty = new Set<Device>();
let mode: SwarmConnect["mode"] = "raw";
let received = 0;
let pushes = 0;
let topicPushes = 0;
let outOfOrder = 0;
let closedByServer = 0;
let acksSent = 0;
let target = Number.POSITIVE_INFINITY;
/** Which timed run the counts belong to, so the parent can drop a late report from an earlier one. */
let run = 0;
/** Off only for the diagnostic run that shows what the relay's acks cost it. */
let acking = true;
let progressTimer: ReturnType<typeof setInterval> | null = null;

const parent = serveParent({
  connect,
  expect,
  stats,
  close: closeAll,
  acks: (a) => {
    acking = a.on as boolean;
  },
});

setInterval(() => {
  if (!acking) return dirty.clear();
  for (const d of dirty) {
    if (d.connected && d.lastSeq > d.ackedSeq) {
      d.ackedSeq = d.lastSeq;
      d.send(encodeFrame({ type: FrameType.ACK, seq: d.lastSeq }));
      acksSent++;
    }
  }
  dirty.clear();
}, ACK_EVERY_MS);

/** A CBOR unsigned integer at `at` (the seq of a PUSH sits right after the frame type). */
function readUint(b: Uint8Array, at: number): number {
  const head = b[at]!;
  const n = head & 0x1f;
  if (n < 24) return n;
  if (n === 24) return b[at + 1]!;
  if (n === 25) return (b[at + 1]! << 8) | b[at + 2]!;
  if (n === 26) return ((b[at + 1]! << 24) >>> 0) + (b[at + 2]! << 16) + (b[at + 3]! << 8) + b[at + 4]!;
  return Number(new DataView(b.buffer, b.byteOffset + at + 1, 8).getBigUint64(0));
}

function onFrame(d: Device, frame: Uint8Array, settle: (error?: string) => void): void {
  // Every frame is a CBOR array whose first element, a small integer, is the type.
  const type = frame[1];
  if (type === FrameType.PUSH) {
    const seq = readUint(frame, 2);
    if (d.lastSeq !== 0 && seq !== d.lastSeq + 1) outOfOrder++;
    d.lastSeq = seq;
    dirty.add(d);
    pushes++;
    counted();
    return;
  }
  if (type === FrameType.TOPIC_PUSH) {
    topicPushes++;
    counted();
    return;
  }
  const decoded = decodeFrame(frame, SERVER_FRAMES, Number.MAX_SAFE_INTEGER);
  if (decoded.type === FrameType.WELCOME) {
    d.connected = true;
    settle();
  } else if (decoded.type === FrameType.GOAWAY || decoded.type === FrameType.ERROR) {
    settle(JSON.stringify({ ...decoded, alternatives: undefined }));
  }
}

function counted(): void {
  received++;
  if (received === target) {
    stopProgress();
    parent.emit("done", { at: epochMs(), received, run });
  }
}

function hello(d: Device): Uint8Array {
  return encodeFrame({
    type: FrameType.HELLO,
    version: PROTOCOL_VERSION,
    deviceId: d.spec.deviceId,
    token: d.spec.token,
    lastSeq: 0,
    heartbeat: HEARTBEAT_S,
    epoch: 0,
    topics: {},
  });
}

function openWs(spec: SwarmDevice, url: string, timeoutMs: number): Promise<Device> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(spec.topic && mode === "raw" ? `${url}/?topic=1` : url);
    ws.binaryType = "arraybuffer";
    const d: Device = { spec, connected: false, closing: false, lastSeq: 0, ackedSeq: 0, send: (b) => ws.send(b as BufferSource), close: () => ws.close() };
    let settled = false;
    const timer = setTimeout(() => settle("timed out"), timeoutMs);
    function settle(error?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        ws.close();
        reject(new Error(error));
      } else resolve(d);
    }
    ws.onopen = () => {
      if (mode === "pushmesh") ws.send(hello(d) as BufferSource);
      else {
        d.connected = true;
        settle();
      }
    };
    ws.onmessage = (ev) => onFrame(d, new Uint8Array(ev.data as ArrayBuffer), settle);
    ws.onclose = (ev) => {
      if (d.connected && !d.closing) closedByServer++;
      d.connected = false;
      settle(`closed ${ev.code} ${ev.reason}`);
    };
    ws.onerror = () => settle("socket error");
  });
}

function openTcp(spec: SwarmDevice, address: string, timeoutMs: number): Promise<Device> {
  const colon = address.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    let socket: Socket | null = null;
    let rest: Uint8Array | null = null;
    const outbox: Uint8Array[] = [];
    const flush = () => {
      while (socket && outbox.length > 0) {
        const head = outbox[0]!;
        const written = socket.write(head);
        if (written < head.length) {
          outbox[0] = head.subarray(Math.max(0, written));
          return;
        }
        outbox.shift();
      }
    };
    const d: Device = {
      spec,
      connected: false,
      closing: false,
      lastSeq: 0,
      ackedSeq: 0,
      send(b) {
        outbox.push(lengthPrefixed(b));
        if (outbox.length === 1) flush();
      },
      close: () => socket?.end(),
    };
    let settled = false;
    const timer = setTimeout(() => settle("timed out"), timeoutMs);
    function settle(error?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        socket?.end();
        reject(new Error(error));
      } else resolve(d);
    }
    Bun.connect({
      hostname: address.slice(0, colon),
      port: Number(address.slice(colon + 1)),
      socket: {
        open(s) {
          socket = s;
          if (mode === "pushmesh") d.send(hello(d));
          else {
            d.connected = true;
            settle();
          }
        },
        // Length-prefixed frames (LEB128 varint), possibly split across or packed into chunks.
        data(_s, chunk) {
          let buf = chunk as Uint8Array;
          if (rest) {
            const joined = new Uint8Array(rest.length + buf.length);
            joined.set(rest);
            joined.set(buf, rest.length);
            buf = joined;
            rest = null;
          }
          let pos = 0;
          while (pos < buf.length) {
            let length = 0;
            let shift = 1;
            let cursor = pos;
            let complete = false;
            while (cursor < buf.length) {
              const byte = buf[cursor++]!;
              length += (byte & 0x7f) * shift;
              shift *= 0x80;
              if ((byte & 0x80) === 0) {
                complete = true;
                break;
              }
            }
            if (!complete || buf.length - cursor < length) break;
            onFrame(d, buf.subarray(cursor, cursor + length), settle);
            pos = cursor + length;
          }
          if (pos < buf.length) rest = buf.slice(pos);
        },
        drain: flush,
        close() {
          if (d.connected && !d.closing) closedByServer++;
          d.connected = false;
          settle("connection closed");
        },
        error: (_s, error) => settle(String(error)),
        connectError: (_s, error) => settle(String(error)),
      },
    }).catch((error: unknown) => settle(String(error)));
  });
}

async function connect(args: Record<string, any>): Promise<{ connected: number; failed: number; errors: string[]; ms: number }> {
  const { ws, tcp, devices: specs, concurrency = 200, timeoutMs = 60_000 } = args as SwarmConnect;
  mode = args.mode;
  const started = performance.now();
  const errors: string[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      try {
        devices.push(await (spec.transport === "ws" ? openWs(spec, ws, timeoutMs) : openTcp(spec, tcp, timeoutMs)));
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push(`${spec.deviceId}: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return { connected: devices.filter((d) => d.connected).length, failed, errors, ms: performance.now() - started };
}

function stopProgress(): void {
  if (progressTimer) clearInterval(progressTimer);
  progressTimer = null;
}

/** Counts from zero again and reports progress every 10 ms until `total` frames have arrived. */
function expect(args: Record<string, any>): void {
  stopProgress();
  received = 0;
  run = args.run as number;
  target = args.total as number;
  if (target === 0) {
    parent.emit("done", { at: epochMs(), received, run });
    return;
  }
  progressTimer = setInterval(() => parent.emit("progress", { received, run }), 10);
}

function stats(): SwarmStats {
  return {
    devices: devices.length,
    connected: devices.filter((d) => d.connected).length,
    pushes,
    topicPushes,
    outOfOrder,
    closedByServer,
    acksSent,
    cpuSeconds: cpuSeconds(),
  };
}

async function closeAll(): Promise<void> {
  for (const d of devices) {
    d.closing = true;
    d.close();
  }
  await Bun.sleep(200);
}
