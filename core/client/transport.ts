// Transports for the device SDK. Each takes the runtime's socket constructor from the caller, so the
// SDK runs in browsers and Bun without importing either.
import { lengthPrefixed, TcpFrameReader } from "../codec.ts";
import { FrameError, WireError } from "../protocol.ts";

export type TransportHandlers = {
  onOpen(): void;
  /** One frame's CBOR bytes. */
  onFrame(frame: Uint8Array): void;
  onClose(code: number, reason: string): void;
};

export interface Transport {
  send(frame: Uint8Array): void;
  close(): void;
}

export type TransportFactory = (address: string, handlers: TransportHandlers) => Transport;

/** The part of the WHATWG WebSocket the SDK uses; browsers', Bun's and Deno's all fit. */
type WebSocketLike = {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
};
type WebSocketConstructor = new (url: string) => WebSocketLike;

/** WebSocket transport: one binary message per frame. `address` is a ws:// or wss:// URL. */
export function webSocketTransport(ctor: WebSocketConstructor = globalThis.WebSocket as unknown as WebSocketConstructor): TransportFactory {
  return (address, handlers) => {
    const ws = new ctor(address);
    ws.binaryType = "arraybuffer";
    let closed = false;
    const done = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason);
    };
    ws.onopen = () => handlers.onOpen();
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) handlers.onFrame(new Uint8Array(ev.data));
      else if (ev.data instanceof Uint8Array) handlers.onFrame(ev.data);
    };
    ws.onclose = (ev) => done(ev.code, ev.reason);
    ws.onerror = () => done(1006, "socket error");
    return {
      send: (frame) => ws.send(frame),
      close: () => {
        ws.close(1000, "client closing");
        done(1000, "client closing");
      },
    };
  };
}

/** The part of Bun.connect the TCP transport uses. */
export type TcpConnect = (options: {
  hostname: string;
  port: number;
  socket: {
    open(socket: TcpSocketLike): void;
    data(socket: TcpSocketLike, data: Uint8Array): void;
    close(socket: TcpSocketLike): void;
    error(socket: TcpSocketLike, error: Error): void;
    drain(socket: TcpSocketLike): void;
    connectError?(socket: TcpSocketLike, error: Error): void;
  };
}) => Promise<TcpSocketLike>;
export type TcpSocketLike = { write(data: Uint8Array): number; end(): void };

/** A device accepts frames up to this size by default: generous, since the server bounds what it sends. */
const CLIENT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

export type TcpTransportOptions = {
  maxFrameBytes?: number;
  /** TLS options for `tls://` addresses (e.g. a CA for a private certificate); default: the system's trust. */
  tls?: Record<string, unknown>;
};

/** Raw TCP transport: varint length + CBOR per frame. `address` is "host:port" or "tls://host:port". */
export function tcpTransport(connect: TcpConnect, options: TcpTransportOptions = {}): TransportFactory {
  const maxFrameBytes = options.maxFrameBytes ?? CLIENT_MAX_FRAME_BYTES;
  return (address, handlers) => {
    const secure = address.startsWith("tls://");
    const target = secure ? address.slice("tls://".length) : address;
    const colon = target.lastIndexOf(":");
    const hostname = target.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(target.slice(colon + 1));
    const reader = new TcpFrameReader(maxFrameBytes);
    const outbox: Uint8Array[] = [];
    let socket: TcpSocketLike | null = null;
    let closed = false;
    const done = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      socket?.end();
      handlers.onClose(code, reason);
    };
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
    connect({
      hostname,
      port,
      ...(secure ? { tls: options.tls ?? true } : {}),
      socket: {
        open(s) {
          socket = s;
          handlers.onOpen();
          flush();
        },
        data(_s, chunk) {
          try {
            for (const frame of reader.push(chunk)) handlers.onFrame(frame);
          } catch (error) {
            done(error instanceof FrameError ? WireError[error.code].code : 1006, String(error));
          }
        },
        drain: flush,
        close: () => done(1006, "connection closed"),
        error: (_s, error) => done(1006, String(error)),
        connectError: (_s, error) => done(1006, String(error)),
      },
    }).catch((error: unknown) => done(1006, String(error)));
    return {
      send(frame) {
        outbox.push(lengthPrefixed(frame));
        if (outbox.length === 1) flush();
      },
      close: () => done(1000, "client closing"),
    };
  };
}
