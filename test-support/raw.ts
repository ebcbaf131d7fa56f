// Raw protocol peers for tests that must send what no SDK would: bytes straight onto the socket.
import { decodeFrame, encodeFrame, encodeValue, lengthPrefixed, TcpFrameReader } from "../core/codec.ts";
import { type Frame, FrameType, PROTOCOL_VERSION, SERVER_FRAMES } from "../core/protocol.ts";

export type RawPeer = {
  readonly transport: "ws" | "tcp";
  /** Bytes as they go on the wire: on TCP the caller adds the length prefix. */
  send(bytes: Uint8Array): void;
  /**
   * Frames, or any other values (invalid frames), encoded as CBOR and framed for this transport,
   * all handed to the socket in the same tick (one write on TCP).
   */
  sendFrames(...frames: (Frame | unknown[])[]): void;
  frames: Frame[];
  /** Resolves when the server closes; with the WebSocket close code where there is one. */
  closed: Promise<{ code: number | null }>;
  nextFrame(timeoutMs?: number): Promise<Frame>;
  close(): void;
  /** Stops reading the socket (the server's writes back up), and starts again. */
  pause(): void;
  resume(): void;
};

export type Transport = "ws" | "tcp";
export const TRANSPORTS: readonly Transport[] = ["tcp", "ws"];

/** A raw peer on `transport` of a mesh (or relay node) with `ws` and `tcp` addresses. */
export function rawPeer(transport: Transport, node: { ws: string; tcp: string }): Promise<RawPeer> {
  return transport === "tcp" ? rawTcp(node.tcp) : rawWsOverTcp(node.ws);
}

export function helloFrame(
  deviceId: string,
  token: string,
  extra: Partial<{ version: number; lastSeq: number; heartbeat: number; epoch: number; topics: Record<string, number> }> = {},
): Frame {
  return {
    type: FrameType.HELLO,
    version: extra.version ?? PROTOCOL_VERSION,
    deviceId,
    token,
    lastSeq: extra.lastSeq ?? 0,
    heartbeat: extra.heartbeat ?? 30,
    epoch: extra.epoch ?? 0,
    topics: extra.topics ?? {},
  };
}

const toBytes = (frame: Frame | unknown[]) => (Array.isArray(frame) ? encodeValue(frame) : encodeFrame(frame));

function frameQueue() {
  const frames: Frame[] = [];
  let read = 0;
  const waiting: (() => void)[] = [];
  return {
    frames,
    push(f: Frame) {
      frames.push(f);
      for (const w of waiting.splice(0)) w();
    },
    next(timeoutMs = 5000): Promise<Frame> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no frame arrived")), timeoutMs);
        const check = () => {
          if (read < frames.length) {
            clearTimeout(timer);
            resolve(frames[read++]!);
          } else waiting.push(check);
        };
        check();
      });
    },
  };
}

function hostPort(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { hostname: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export async function rawTcp(address: string): Promise<RawPeer> {
  const queue = frameQueue();
  const reader = new TcpFrameReader(1 << 20);
  const { promise: closed, resolve } = Promise.withResolvers<{ code: number | null }>();
  const socket = await Bun.connect({
    ...hostPort(address),
    socket: {
      data(_s, chunk) {
        for (const body of reader.push(chunk)) queue.push(decodeFrame(body, SERVER_FRAMES, 1 << 20));
      },
      close() {
        resolve({ code: null });
      },
      error() {
        resolve({ code: null });
      },
    },
  });
  const send = (bytes: Uint8Array) => void socket.write(bytes);
  return {
    transport: "tcp",
    send,
    sendFrames: (...frames) => send(Buffer.concat(frames.map((f) => lengthPrefixed(toBytes(f))))),
    frames: queue.frames,
    closed,
    nextFrame: queue.next,
    close: () => socket.end(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

/** A WebSocket peer that can also see the handshake answer and control frames, and send pings. */
export type RawWsPeer = RawPeer & {
  /** The 101 answer's headers, lower-case names. */
  response: Map<string, string>;
  ping(): void;
  pings: number;
  pongs: number;
};

const WS_OP = { continuation: 0x0, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * RFC 6455 spoken over a raw socket, so a test controls what the client offers and sees every
 * frame the relay sends (pings included), and can stop reading as a stalled phone would.
 */
export async function rawWsOverTcp(url: string, headers: Record<string, string> = {}): Promise<RawWsPeer> {
  const { hostname, port } = new URL(url);
  const queue = frameQueue();
  const { promise: closed, resolve: resolveClosed } = Promise.withResolvers<{ code: number | null }>();
  const { promise: upgraded, resolve: upgrade, reject } = Promise.withResolvers<void>();
  const response = new Map<string, string>();
  let buffer: Buffer = Buffer.alloc(0);
  let head = true;
  let message: Buffer[] = [];
  const peer = { pings: 0, pongs: 0 };

  const readFrames = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const op = buffer[0]! & 0x0f;
      const fin = (buffer[0]! & 0x80) !== 0;
      let length = buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) [length, at] = buffer.length < 4 ? [-1, at] : [buffer.readUInt16BE(2), 4];
      else if (length === 127) [length, at] = buffer.length < 10 ? [-1, at] : [Number(buffer.readBigUInt64BE(2)), 10];
      if (length < 0 || buffer.length < at + length) return;
      const payload = buffer.subarray(at, at + length);
      buffer = buffer.subarray(at + length);
      if (op === WS_OP.ping) peer.pings++;
      else if (op === WS_OP.pong) peer.pongs++;
      else if (op === WS_OP.close) resolveClosed({ code: payload.length >= 2 ? payload.readUInt16BE(0) : null });
      else {
        message.push(Buffer.from(payload));
        if (fin) {
          queue.push(decodeFrame(new Uint8Array(Buffer.concat(message)), SERVER_FRAMES, 1 << 20));
          message = [];
        }
      }
    }
  };

  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data(_s, chunk) {
        buffer = Buffer.concat([buffer, chunk]);
        if (head) {
          const end = buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const [status, ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
          for (const line of lines) response.set(line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim());
          buffer = buffer.subarray(end + 4);
          head = false;
          if (!status?.includes(" 101 ")) return reject(new Error(`upgrade refused: ${status}`));
          upgrade();
        }
        readFrames();
      },
      close() {
        resolveClosed({ code: null });
        reject(new Error("closed before the upgrade"));
      },
      error() {
        resolveClosed({ code: null });
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  await upgraded;

  /** A client frame: always masked (RFC 6455 §5.3). */
  const wsFrame = (op: number, payload: Uint8Array) => {
    const size = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
    const out = Buffer.alloc(size + 4 + payload.length);
    out[0] = 0x80 | op;
    if (size === 2) out[1] = 0x80 | payload.length;
    else if (size === 4) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(payload.length, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    out.set(mask, size);
    for (let i = 0; i < payload.length; i++) out[size + 4 + i] = payload[i]! ^ mask[i & 3]!;
    return out;
  };
  const send = (bytes: Uint8Array) => void socket.write(wsFrame(WS_OP.binary, bytes));
  return {
    transport: "ws",
    send,
    sendFrames: (...frames) => void socket.write(Buffer.concat(frames.map((f) => wsFrame(WS_OP.binary, toBytes(f))))),
    frames: queue.frames,
    closed,
    nextFrame: queue.next,
    close: () => {
      socket.write(wsFrame(WS_OP.close, new Uint8Array([0x03, 0xe8])));
      socket.end();
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    response,
    ping: () => void socket.write(wsFrame(WS_OP.ping, new Uint8Array([1, 2, 3, 4]))),
    get pings() {
      return peer.pings;
    },
    get pongs() {
      return peer.pongs;
    },
  };
}

export async function rawWs(url: string): Promise<RawPeer> {
  const queue = frameQueue();
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const { promise: closed, resolve } = Promise.withResolvers<{ code: number | null }>();
  const { promise: opened, resolve: open, reject } = Promise.withResolvers<void>();
  ws.onopen = () => open();
  ws.onerror = () => reject(new Error("websocket error"));
  ws.onclose = (ev) => resolve({ code: ev.code });
  ws.onmessage = (ev) => queue.push(decodeFrame(new Uint8Array(ev.data as ArrayBuffer), SERVER_FRAMES, 1 << 20));
  await opened;
  const send = (bytes: Uint8Array) => ws.send(bytes as Uint8Array<ArrayBuffer>);
  const unsupported = () => {
    throw new Error("the WebSocket API cannot stop reading; use rawWsOverTcp");
  };
  return {
    transport: "ws",
    send,
    sendFrames: (...frames) => {
      for (const f of frames) send(toBytes(f));
    },
    frames: queue.frames,
    closed,
    nextFrame: queue.next,
    close: () => ws.close(),
    pause: unsupported,
    resume: unsupported,
  };
}

export const frameBytes = encodeFrame;

/** The next frame is ERROR with `code`, then the server closes (WebSocket: with the same close code). */
export async function errorThenClose(peer: RawPeer, timeoutMs?: number): Promise<{ error: Frame; closeCode: number | null }> {
  const error = await peer.nextFrame(timeoutMs);
  const { code } = await peer.closed;
  return { error, closeCode: code };
}
