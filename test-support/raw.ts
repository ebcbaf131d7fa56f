// Raw protocol peers for tests that must send what no SDK would: bytes straight onto the socket.
import { decodeFrame, encodeFrame, TcpFrameReader } from "../core/codec.ts";
import { type Frame, SERVER_FRAMES } from "../core/protocol.ts";

export type RawPeer = {
  send(bytes: Uint8Array): void;
  frames: Frame[];
  /** Resolves when the server closes; with the WebSocket close code where there is one. */
  closed: Promise<{ code: number | null }>;
  nextFrame(timeoutMs?: number): Promise<Frame>;
  close(): void;
};

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

export async function rawTcp(address: string): Promise<RawPeer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const queue = frameQueue();
  const reader = new TcpFrameReader(1 << 20);
  const { promise: closed, resolve } = Promise.withResolvers<{ code: number | null }>();
  const socket = await Bun.connect({
    hostname: host,
    port,
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
  return {
    send: (bytes) => void socket.write(bytes),
    frames: queue.frames,
    closed,
    nextFrame: queue.next,
    close: () => socket.end(),
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
  return {
    send: (bytes) => ws.send(bytes as Uint8Array<ArrayBuffer>),
    frames: queue.frames,
    closed,
    nextFrame: queue.next,
    close: () => ws.close(),
  };
}

export const frameBytes = encodeFrame;
