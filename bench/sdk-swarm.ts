// A child process holding many devices that run the real SDK (PushClient): its reconnect backoff,
// its address list, its resume by seq and its once-only hand-over to the app. The storm benchmark
// uses it because the SDK's behaviour is what is being measured. Each device records, per
// message number (`data.n`), how many times the app was handed it and when it first was.
import { type ClientEvent, MemoryStateStore, PushClient } from "../core/client/client.ts";
import { type TcpConnect, tcpTransport, webSocketTransport } from "../core/client/transport.ts";
import { epochMs, serveParent } from "./child-process.ts";

export type SdkDevice = { deviceId: string; token: string; transport: "ws" | "tcp" };
export type SdkStart = { devices: SdkDevice[]; ws: string[]; tcp: string[]; concurrency?: number };
export type SdkStatus = { devices: number; connected: number; reconnected: number; complete: number; byNode: Record<string, number> };
export type SdkSummary = SdkStatus & {
  lost: number;
  duplicated: number;
  /** Per device, when it first connected again after `since` (epoch ms), sorted. */
  reconnectTimes: number[];
  /** Per device, when it had every message up to `rounds` (epoch ms), sorted; devices still missing one are left out. */
  completeTimes: number[];
  disconnects: number;
  failedAttempts: number;
  failReasons: Record<string, number>;
  welcomesBehind: number;
  sameSeqTwice: number;
  otherSeqTwice: number;
  goaways: number;
  errors: Record<string, number>;
};

type Device = {
  client: PushClient;
  connected: boolean;
  node: string;
  connectedAt: number[];
  /** Hand-overs per message number (index n), when the first one came, and the seq it came with. */
  got: number[];
  firstAt: number[];
  seqOf: number[];
  /** Highest seq handed to the app. */
  maxSeq: number;
};

const devices: Device[] = [];
let disconnects = 0;
/** Connection attempts that ended before WELCOME (refused, reset, closed). */
let failedAttempts = 0;
const failReasons: Record<string, number> = {};
/** WELCOMEs whose latestSeq was below a seq the app already had: the SDK then rewinds to it. */
let welcomesBehind = 0;
let sameSeqTwice = 0;
let otherSeqTwice = 0;
let goaways = 0;
const errors: Record<string, number> = {};

serveParent({ start, status, summary, stop });

async function start(args: Record<string, any>): Promise<{ connected: number; ms: number }> {
  const { devices: specs, ws, tcp, concurrency = 200 } = args as SdkStart;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const d: Device = { client: null as unknown as PushClient, connected: false, node: "", connectedAt: [], got: [], firstAt: [], seqOf: [], maxSeq: 0 };
      let resolveConnected!: () => void;
      const connected = new Promise<void>((resolve) => {
        resolveConnected = resolve;
      });
      d.client = new PushClient({
        deviceId: spec.deviceId,
        token: spec.token,
        addresses: spec.transport === "ws" ? ws : tcp,
        transport: spec.transport === "ws" ? webSocketTransport() : tcpTransport(Bun.connect as unknown as TcpConnect),
        state: new MemoryStateStore(),
        onMessage: (m) => {
          const n = (m.data as { n: number }).n;
          d.got[n] = (d.got[n] ?? 0) + 1;
          d.firstAt[n] ??= epochMs();
          // A second hand-over with the same seq is a replay the SDK let through; with another seq, the message was stored twice.
          if (d.got[n]! > 1) {
            if (d.seqOf[n] === m.seq) sameSeqTwice++;
            else otherSeqTwice++;
          }
          d.seqOf[n] = m.seq;
          if (m.seq > d.maxSeq) d.maxSeq = m.seq;
        },
        onEvent: (e: ClientEvent) => {
          if (e.type === "connected") {
            if (e.latestSeq < d.maxSeq) welcomesBehind++;
            d.connected = true;
            d.node = e.nodeId;
            d.connectedAt.push(epochMs());
            resolveConnected();
          } else if (e.type === "disconnected") {
            if (d.connected) disconnects++;
            else {
              failedAttempts++;
              const why = `${e.code} ${e.reason.slice(0, 60)}`;
              failReasons[why] = (failReasons[why] ?? 0) + 1;
            }
            d.connected = false;
          } else if (e.type === "goaway") goaways++;
          else if (e.type === "error") errors[e.code] = (errors[e.code] ?? 0) + 1;
        },
      });
      devices.push(d);
      await d.client.start();
      await Promise.race([connected, Bun.sleep(30_000)]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return { connected: devices.filter((d) => d.connected).length, ms: performance.now() - started };
}

/** When the device had every message 1..rounds, or null while one is missing. */
function completeAt(d: Device, rounds: number): number | null {
  let at = 0;
  for (let n = 1; n <= rounds; n++) {
    const t = d.firstAt[n];
    if (t === undefined) return null;
    if (t > at) at = t;
  }
  return at;
}

const reconnectedAt = (d: Device, since: number): number | undefined => d.connectedAt.find((t) => t > since);

function status(args: Record<string, any>): SdkStatus {
  const since = args.since as number;
  const rounds = args.rounds as number;
  const byNode: Record<string, number> = {};
  for (const d of devices) if (d.connected) byNode[d.node] = (byNode[d.node] ?? 0) + 1;
  return {
    byNode,
    devices: devices.length,
    connected: devices.filter((d) => d.connected).length,
    reconnected: devices.filter((d) => reconnectedAt(d, since) !== undefined).length,
    complete: devices.filter((d) => completeAt(d, rounds) !== null).length,
  };
}

function summary(args: Record<string, any>): SdkSummary {
  const since = args.since as number;
  const rounds = args.rounds as number;
  let lost = 0;
  let duplicated = 0;
  for (const d of devices) {
    for (let n = 1; n <= rounds; n++) {
      const c = d.got[n] ?? 0;
      if (c === 0) lost++;
      else duplicated += c - 1;
    }
    // A message past `rounds` was in a round the edge took only in part: owed to nobody, but not twice.
    for (let n = rounds + 1; n < d.got.length; n++) duplicated += Math.max(0, (d.got[n] ?? 0) - 1);
  }
  const times = (f: (d: Device) => number | null | undefined) =>
    devices
      .map(f)
      .filter((t): t is number => typeof t === "number")
      .sort((a, b) => a - b);
  return {
    ...status(args),
    lost,
    duplicated,
    reconnectTimes: times((d) => reconnectedAt(d, since)),
    completeTimes: times((d) => completeAt(d, rounds)),
    disconnects,
    failedAttempts,
    failReasons,
    welcomesBehind,
    sameSeqTwice,
    otherSeqTwice,
    goaways,
    errors,
  };
}

async function stop(): Promise<void> {
  await Promise.all(devices.map((d) => d.client.stop()));
}
