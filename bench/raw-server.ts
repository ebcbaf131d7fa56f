// The baseline: a bare Bun WebSocket server and a bare Bun TCP server in one process. They accept
// connections and keep them; they read and drop whatever devices send. For throughput they write
// frames encoded before the clock starts: ws.sendBinary / socket.write per socket (unicast) or
// server.publish (topic fan-out). The socket options that cost memory or wake-ups are the relay's
// (no idle timeout, no pings, the same 8 MiB WebSocket buffer limit), so the comparison is the
// relay's work against none.
import type { ServerWebSocket, Socket } from "bun";
import { encodeFrame, lengthPrefixed } from "../core/codec.ts";
import { FrameType, uuidToBytes } from "../core/protocol.ts";
import { collectAndMeasure, type Memory, serveParent } from "./child-process.ts";
import { driveRounds, PAYLOAD, Progress, TOPIC } from "./rounds.ts";

type WsData = { topic: boolean };

/** `bun bench/raw-server.ts '{"wsPort":…,"tcpPort":…,"reusePort":true}'`: several of them share ports as a relay host's workers do. */
const listen = JSON.parse(process.argv[2] ?? "{}") as { hostname?: string; wsPort?: number; tcpPort?: number; reusePort?: boolean };
type TcpData = { outbox: Uint8Array[] };

const wsSockets = new Set<ServerWebSocket<WsData>>();
const tcpSockets = new Set<Socket<TcpData>>();
const progress = new Progress();

const ws = Bun.serve({
  hostname: listen.hostname ?? "127.0.0.1",
  port: listen.wsPort ?? 0,
  reusePort: listen.reusePort ?? false,
  fetch(req, server) {
    const topic = new URL(req.url).searchParams.has("topic");
    if (server.upgrade(req, { data: { topic } })) return undefined;
    return new Response("upgrade required\n", { status: 426 });
  },
  websocket: {
    data: {} as WsData,
    idleTimeout: 0,
    sendPings: false,
    backpressureLimit: 8 * 1024 * 1024,
    open(socket) {
      wsSockets.add(socket);
      if (socket.data.topic) socket.subscribe(TOPIC);
    },
    message() {},
    close(socket) {
      wsSockets.delete(socket);
    },
  },
});

const tcp = Bun.listen<TcpData>({
  hostname: listen.hostname ?? "127.0.0.1",
  port: listen.tcpPort ?? 0,
  ...({ reusePort: listen.reusePort ?? false } as {}),
  socket: {
    open(socket) {
      socket.data = { outbox: [] };
      tcpSockets.add(socket);
    },
    data() {},
    drain(socket) {
      const { outbox } = socket.data;
      while (outbox.length > 0) {
        const head = outbox[0]!;
        const written = Math.max(0, socket.write(head));
        if (written < head.length) {
          outbox[0] = head.subarray(written);
          return;
        }
        outbox.shift();
      }
    },
    close(socket) {
      tcpSockets.delete(socket);
    },
  },
});

/** A short write keeps the rest for the drain callback, as any correct TCP server must. */
function write(socket: Socket<TcpData>, bytes: Uint8Array): void {
  const { outbox } = socket.data;
  if (outbox.length > 0) {
    outbox.push(bytes);
    return;
  }
  const written = Math.max(0, socket.write(bytes));
  if (written < bytes.length) outbox.push(bytes.subarray(written));
}

const messageId = uuidToBytes("01a1fd51-52ed-7120-8fe2-c5ba692d6d32");

serveParent(
  {
    measure: measureMemory,
    progress: (a) => progress.update(a.received),
    cpu: () => process.cpuUsage(),
    async unicast(a) {
      const rounds = a.rounds as number;
      // Every frame is encoded before the clock starts: the baseline does nothing but write.
      const frames = Array.from({ length: rounds }, (_, i) =>
        encodeFrame({ type: FrameType.PUSH, seq: i + 1, messageId, priority: 1, data: PAYLOAD, sentAt: Date.now(), collapseKey: null }),
      );
      const tcpFrames = frames.map(lengthPrefixed);
      const perRound = wsSockets.size + tcpSockets.size;
      return driveRounds({
        rounds,
        perRound,
        window: a.window,
        progress,
        sendRound(r) {
          const frame = frames[r - 1]!;
          const tcpFrame = tcpFrames[r - 1]!;
          for (const s of wsSockets) s.sendBinary(frame);
          for (const s of tcpSockets) write(s, tcpFrame);
        },
      });
    },
    async fanout(a) {
      const rounds = a.rounds as number;
      const frames = Array.from({ length: rounds }, (_, i) =>
        encodeFrame({ type: FrameType.TOPIC_PUSH, topic: TOPIC, offset: i + 1, messageId, priority: 1, data: PAYLOAD, sentAt: Date.now() }),
      );
      return driveRounds({
        rounds,
        perRound: ws.subscriberCount(TOPIC),
        window: a.window,
        progress,
        sendRound(r) {
          ws.publish(TOPIC, frames[r - 1]!);
        },
      });
    },
  },
  { ws: `ws://127.0.0.1:${ws.port}`, tcp: `127.0.0.1:${tcp.port}`, wsPort: ws.port, tcpPort: tcp.port, pid: process.pid },
);

async function measureMemory(): Promise<Memory & { ws: number; tcp: number }> {
  return { ...(await collectAndMeasure()), ws: wsSockets.size, tcp: tcpSockets.size };
}
