// Bun's sockets wired to the relay's sessions: one binary WebSocket message per frame, and on raw
// TCP a varint length before each frame; TLS on both when configured. The WebSocket listener
// also answers /metrics, /healthz and /readyz. Everything past the framing is core/relay/.
import type { ServerWebSocket, Socket, TCPSocketListener } from "bun";
import { lengthPrefixed, TcpFrameReader } from "../core/codec.ts";
import { FrameError } from "../core/protocol.ts";
import type { Relay } from "../core/relay/relay.ts";
import type { Session } from "../core/relay/session.ts";
import type { Connection } from "../core/relay/session-host.ts";
import { raiseListenBacklog } from "./listen-backlog.ts";

/** Past this many unwritten bytes a connection stops taking pushes until it drains. */
export const SEND_HIGH_WATER = 256 * 1024;
/** Hard cap: Bun drops WebSocket messages past it; the session closes rather than lose one. */
const WS_BUFFER_LIMIT = 8 * 1024 * 1024;
const TCP_CLOSE_GRACE_MS = 5000;
/** Frames coalesced for one raw TCP write are written once they reach this many bytes. */
const CORK_CHUNK_BYTES = 64 * 1024;

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
        if (server.upgrade(req, { data: new WsConnection(remote) })) return undefined;
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
      data: {} as WsConnection,
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
        ws.data.opened(ws, relay);
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

// Each connection is one object, the socket's own data: at tens of thousands of idle sockets,
// per-connection closures and wrapper objects showed up as a large share of the relay's memory.
class WsConnection implements Connection {
  readonly transport = "ws";
  session: Session | null = null;
  private ws: ServerWebSocket<WsConnection> | null = null;
  /** Needed only to admit the connection; dropped after, so an idle socket holds no copy of it. */
  private remote: string;

  constructor(remote: string) {
    this.remote = remote;
  }

  opened(ws: ServerWebSocket<WsConnection>, relay: Relay): void {
    this.ws = ws;
    this.session = relay.open(this);
    this.remote = "";
  }

  get remoteAddress(): string {
    return this.remote;
  }

  send(frame: Uint8Array): boolean {
    const ws = this.ws!;
    const status = ws.sendBinary(frame);
    // 0: Bun dropped the message at its hard limit. Close rather than lose it silently; the
    // device resumes from its last sequence on reconnect.
    if (status === 0) {
      this.session?.closeWith("SLOW_CONSUMER");
      return false;
    }
    return status > 0 || ws.getBufferedAmount() < SEND_HIGH_WATER;
  }

  cork(send: () => void): void {
    if (!this.ws) return send();
    this.ws.cork(send);
    // A send inside the cork may have counted the cork's own buffer as backpressure; when the
    // socket then took everything, no drain event follows to resume the session.
    if (this.ws.getBufferedAmount() < SEND_HIGH_WATER) this.session?.resume();
  }

  close(code: number, reason: string): void {
    this.ws?.close(code, reason);
  }

  buffered(): number {
    return this.ws?.getBufferedAmount() ?? 0;
  }
}

export function listenTcp(relay: Relay, hostname: string, port: number, tls?: Tls, reusePort = false): TCPSocketListener<TcpConnection> {
  return Bun.listen<TcpConnection>({
    hostname,
    port,
    // Bun.listen sets SO_REUSEPORT from this as Bun.serve does; its type declarations omit it.
    ...({ reusePort } as {}),
    tls: tls && { cert: tls.cert, key: tls.key },
    socket: {
      open(socket) {
        // A push is a small write that must leave now, not wait for the peer's delayed ACK.
        socket.setNoDelay(true);
        socket.data = new TcpConnection(socket, relay.config.maxFrameBytes);
        socket.data.session = relay.open(socket.data);
      },
      data(socket, chunk) {
        const conn = socket.data;
        const session = conn.session;
        if (!session || session.isClosed()) return;
        let frames: Uint8Array[];
        try {
          frames = conn.push(chunk);
        } catch (error) {
          // The stream has no frame boundary left to find: it ends now, not in the frame's turn.
          session.fail(error);
          return;
        }
        for (const frame of frames) session.receive(frame);
      },
      drain(socket) {
        socket.data.flushOutbox();
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

/** A raw TCP connection, and its reader of length-prefixed frames: one object per socket. */
class TcpConnection extends TcpFrameReader implements Connection {
  readonly transport = "tcp";
  session: Session | null = null;
  /** Bytes the socket has not taken yet, in order; null while it takes everything (most of the time). */
  private outbox: Uint8Array[] | null = null;
  outboxBytes = 0;
  private closing = false;
  /** Frames sent inside `cork`, written together when it returns. */
  private corked: Uint8Array[] | null = null;
  private corkedBytes = 0;

  constructor(
    private readonly socket: Socket<TcpConnection>,
    maxFrameBytes: number,
  ) {
    super(maxFrameBytes);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  send(frame: Uint8Array): boolean {
    const bytes = lengthPrefixed(frame);
    if (!this.corked) return this.write(bytes);
    this.corked.push(bytes);
    this.corkedBytes += bytes.length;
    // Written once the chunk is large enough, so what a cork holds stays small and the answer
    // below is the socket's own backpressure: false only with bytes waiting for a drain event.
    if (this.corkedBytes >= CORK_CHUNK_BYTES) this.writeCorked();
    return this.outboxBytes + this.corkedBytes < SEND_HIGH_WATER;
  }

  /** Frames sent inside `send` are written as one chunk. */
  cork(send: () => void): void {
    if (this.corked) return send();
    this.corked = [];
    try {
      send();
    } finally {
      this.writeCorked();
      this.corked = null;
    }
  }

  private writeCorked(): void {
    const frames = this.corked;
    if (!frames || frames.length === 0) return;
    this.corked = [];
    this.corkedBytes = 0;
    this.write(frames.length === 1 ? frames[0]! : concatBytes(frames));
  }

  private write(bytes: Uint8Array): boolean {
    if (this.outbox) {
      this.outbox.push(bytes);
      this.outboxBytes += bytes.length;
    } else {
      const written = Math.max(0, this.socket.write(bytes));
      if (written < bytes.length) {
        (this.outbox ??= []).push(bytes.subarray(written));
        this.outboxBytes += bytes.length - written;
      }
    }
    return this.outboxBytes < SEND_HIGH_WATER;
  }

  // Raw TCP has no close code: the ERROR or GOAWAY frame sent before this carries it.
  close(): void {
    const socket = this.socket;
    this.writeCorked();
    this.closing = true;
    if (!this.outbox) socket.end();
    // A peer that stopped reading must not hold the socket open forever.
    else setTimeout(() => socket.terminate(), TCP_CLOSE_GRACE_MS).unref?.();
  }

  buffered(): number {
    return this.outboxBytes;
  }

  flushOutbox(): void {
    const outbox = this.outbox;
    while (outbox && outbox.length > 0) {
      const head = outbox[0]!;
      const written = Math.max(0, this.socket.write(head));
      this.outboxBytes -= written;
      if (written < head.length) {
        outbox[0] = head.subarray(written);
        return;
      }
      outbox.shift();
    }
    this.outbox = null;
    if (this.closing) this.socket.end();
  }
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
  raiseListenBacklog([ws.port ?? ports.ws, tcp.port], relay.config.listenBacklog, relay.log);
  return {
    wsPort: ws.port ?? ports.ws,
    tcpPort: tcp.port,
    async stop() {
      tcp.stop(true);
      await ws.stop(true);
    },
  };
}

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
