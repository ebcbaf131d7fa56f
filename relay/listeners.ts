// Bun's sockets wired to the relay's sessions: one binary WebSocket message per frame, and on raw
// TCP a varint length before each frame; TLS on both when configured. The WebSocket listener
// also answers /metrics, /healthz and /readyz. Everything past the framing is core/relay/.
import type { ServerWebSocket, Socket, TCPSocketListener } from "bun";
import { lengthPrefixed, TcpFrameReader } from "../core/codec.ts";
import { FrameError } from "../core/protocol.ts";
import type { Relay } from "../core/relay/relay.ts";
import type { Session } from "../core/relay/session.ts";
import type { Connection } from "../core/relay/session-host.ts";

type WsData = { remote: string; session?: Session };

/** Past this many unwritten bytes a connection stops taking pushes until it drains. */
export const SEND_HIGH_WATER = 256 * 1024;
/** Hard cap: Bun drops WebSocket messages past it; the session closes rather than lose one. */
const WS_BUFFER_LIMIT = 8 * 1024 * 1024;
const TCP_CLOSE_GRACE_MS = 5000;

export type Tls = { cert: string; key: string };

export type RelayListeners = {
  wsPort: number;
  tcpPort: number;
  stop(): Promise<void>;
};

export type HttpRoutes = { metrics?: () => Promise<Response> };

export function listenWebSocket(relay: Relay, hostname: string, port: number, tls?: Tls, routes: HttpRoutes = {}, reusePort = false) {
  return Bun.serve({
    hostname,
    port,
    reusePort,
    tls: tls && { cert: tls.cert, key: tls.key },
    async fetch(req, server) {
      const path = new URL(req.url).pathname;
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const remote = server.requestIP(req)?.address ?? "";
        if (server.upgrade(req, { data: { remote } })) return undefined;
      }
      if (path === "/healthz") return Response.json({ ok: true });
      if (path === "/readyz") {
        const ready = relay.drainState === "serving";
        return Response.json({ ready, drainState: relay.drainState }, { status: ready ? 200 : 503 });
      }
      if (path === "/metrics" && routes.metrics) return routes.metrics();
      return new Response("pushmesh relay: connect with a WebSocket upgrade\n", { status: 426 });
    },
    websocket: {
      data: {} as WsData,
      // Heartbeats are the protocol's own; the socket-level timer and pings would only wake radios.
      // Client pings get Bun's automatic pong but never reach the session: only frames count.
      idleTimeout: 0,
      sendPings: false,
      // Frames are small CBOR; a deflate context per socket would cost more memory than it saves.
      perMessageDeflate: false,
      // Larger than the frame limit so an oversized frame gets FRAME_TOO_LARGE rather than a bare 1009.
      maxPayloadLength: relay.config.maxFrameBytes * 4,
      backpressureLimit: WS_BUFFER_LIMIT,
      open(ws) {
        ws.data.session = relay.open(new WsConnection(ws));
      },
      message(ws, message) {
        const session = ws.data.session;
        if (!session) return;
        if (typeof message === "string") session.refuse(new FrameError("TEXT_NOT_ACCEPTED", "send frames as binary messages"));
        else session.receive(message);
      },
      drain(ws) {
        if (ws.getBufferedAmount() < SEND_HIGH_WATER) ws.data.session?.resume();
      },
      close(ws) {
        ws.data.session?.closed();
      },
    },
  });
}

// Connections are classes, not object literals of closures: at tens of thousands of idle
// sockets the per-connection closures showed up as a large share of the relay's memory.
class WsConnection implements Connection {
  readonly transport = "ws";
  constructor(private readonly ws: ServerWebSocket<WsData>) {}

  get remoteAddress(): string {
    return this.ws.data.remote;
  }

  send(frame: Uint8Array): boolean {
    const status = this.ws.sendBinary(frame);
    // 0: Bun dropped the message at its hard limit. Close rather than lose it silently; the
    // device resumes from its last sequence on reconnect.
    if (status === 0) {
      this.ws.data.session?.closeWith("SLOW_CONSUMER");
      return false;
    }
    return status > 0 || this.ws.getBufferedAmount() < SEND_HIGH_WATER;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  buffered(): number {
    return this.ws.getBufferedAmount();
  }
}

/** `outbox`: bytes the socket has not taken yet, in order; null while it takes everything (most of the time). */
type TcpData = { reader: TcpFrameReader; session?: Session; outbox: Uint8Array[] | null; outboxBytes: number; closing: boolean };

export function listenTcp(relay: Relay, hostname: string, port: number, tls?: Tls, reusePort = false): TCPSocketListener<TcpData> {
  return Bun.listen<TcpData>({
    hostname,
    port,
    // Bun.listen sets SO_REUSEPORT from this as Bun.serve does; its type declarations omit it.
    ...({ reusePort } as {}),
    tls: tls && { cert: tls.cert, key: tls.key },
    socket: {
      open(socket) {
        // A push is a small write that must leave now, not wait for the peer's delayed ACK.
        socket.setNoDelay(true);
        socket.data = { reader: new TcpFrameReader(relay.config.maxFrameBytes), outbox: null, outboxBytes: 0, closing: false };
        socket.data.session = relay.open(new TcpConnection(socket));
      },
      data(socket, chunk) {
        const { session, reader } = socket.data;
        if (!session || session.isClosed()) return;
        let frames: Uint8Array[];
        try {
          frames = reader.push(chunk);
        } catch (error) {
          // The stream has no frame boundary left to find: it ends now, not in the frame's turn.
          session.fail(error);
          return;
        }
        for (const frame of frames) session.receive(frame);
      },
      drain(socket) {
        flushOutbox(socket);
        if (socket.data.outboxBytes < SEND_HIGH_WATER) socket.data.session?.resume();
      },
      close(socket) {
        socket.data.session?.closed();
      },
      error(socket, error) {
        relay.log("tcp_error", { remote: socket.remoteAddress, error: String(error) });
      },
    },
  });
}

class TcpConnection implements Connection {
  readonly transport = "tcp";
  constructor(private readonly socket: Socket<TcpData>) {}

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  send(frame: Uint8Array): boolean {
    const data = this.socket.data;
    const bytes = lengthPrefixed(frame);
    if (data.outbox) {
      data.outbox.push(bytes);
      data.outboxBytes += bytes.length;
    } else {
      const written = Math.max(0, this.socket.write(bytes));
      if (written < bytes.length) {
        (data.outbox ??= []).push(bytes.subarray(written));
        data.outboxBytes += bytes.length - written;
      }
    }
    return data.outboxBytes < SEND_HIGH_WATER;
  }

  // Raw TCP has no close code: the ERROR or GOAWAY frame sent before this carries it.
  close(): void {
    const socket = this.socket;
    socket.data.closing = true;
    if (!socket.data.outbox) socket.end();
    // A peer that stopped reading must not hold the socket open forever.
    else setTimeout(() => socket.terminate(), TCP_CLOSE_GRACE_MS).unref?.();
  }

  buffered(): number {
    return this.socket.data.outboxBytes;
  }
}

function flushOutbox(socket: Socket<TcpData>): void {
  const data = socket.data;
  const outbox = data.outbox;
  while (outbox && outbox.length > 0) {
    const head = outbox[0]!;
    const written = Math.max(0, socket.write(head));
    data.outboxBytes -= written;
    if (written < head.length) {
      outbox[0] = head.subarray(written);
      return;
    }
    outbox.shift();
  }
  data.outbox = null;
  if (data.closing) socket.end();
}

export function startListeners(
  relay: Relay,
  hostname: string,
  ports: { ws: number; tcp: number },
  tls?: Tls,
  routes?: HttpRoutes,
  /** The workers of one relay host bind the same ports; Linux spreads new connections over them. */
  reusePort = false,
): RelayListeners {
  const ws = listenWebSocket(relay, hostname, ports.ws, tls, routes, reusePort);
  const tcp = listenTcp(relay, hostname, ports.tcp, tls, reusePort);
  return {
    wsPort: ws.port ?? ports.ws,
    tcpPort: tcp.port,
    async stop() {
      tcp.stop(true);
      await ws.stop(true);
    },
  };
}
