// A user-space stand-in for a wide-area link (this machine has no tc netem): a TCP proxy on
// loopback that holds every chunk for a fixed one-way delay in each direction, keeping order.
import type { Socket, TCPSocketListener } from "bun";

type Pipe = { peer: Socket<Pipe> | null; queue: Uint8Array[]; lastDue: number; closed: boolean; unwritten: Uint8Array[] };

export type LatencyProxy = { port: number; address: string; stop(): void };

function later(pipe: Pipe, target: () => Socket<Pipe> | null, bytes: Uint8Array, delayMs: number): void {
  // Order is kept by never scheduling a chunk before the one ahead of it.
  const due = Math.max(performance.now() + delayMs, pipe.lastDue);
  pipe.lastDue = due;
  const copy = bytes.slice();
  setTimeout(() => {
    const t = target();
    if (t && !pipe.closed) send(t, copy);
  }, Math.max(0, due - performance.now()));
}

/** Writes in order; what the socket does not take now waits for its drain, never dropped. */
function send(socket: Socket<Pipe>, bytes: Uint8Array): void {
  const pending = socket.data.unwritten;
  if (pending.length > 0) {
    pending.push(bytes);
    return;
  }
  const written = Math.max(0, socket.write(bytes));
  if (written < bytes.length) pending.push(bytes.subarray(written));
}

function flush(socket: Socket<Pipe>): void {
  const pending = socket.data.unwritten;
  while (pending.length > 0) {
    const head = pending[0]!;
    const written = Math.max(0, socket.write(head));
    if (written < head.length) {
      pending[0] = head.subarray(written);
      return;
    }
    pending.shift();
  }
}

const newPipe = (peer: Socket<Pipe> | null): Pipe => ({ peer, queue: [], lastDue: 0, closed: false, unwritten: [] });

/** Listens on 127.0.0.1:0 and forwards to `target` ("host:port") with `oneWayMs` each way. */
export function startLatencyProxy(target: string, oneWayMs: number): LatencyProxy {
  const colon = target.lastIndexOf(":");
  const hostname = target.slice(0, colon);
  const port = Number(target.slice(colon + 1));
  const listener: TCPSocketListener<Pipe> = Bun.listen<Pipe>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        // Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add up to 40 ms to small
        // writes (a pub/sub message, a frame), which is not the distance being simulated.
        client.setNoDelay(true);
        client.data = newPipe(null);
        const upstreamState = newPipe(client);
        Bun.connect<Pipe>({
          hostname,
          port,
          data: upstreamState,
          socket: {
            open(upstream) {
              upstream.setNoDelay(true);
              client.data.peer = upstream;
              for (const chunk of client.data.queue.splice(0)) later(client.data, () => upstream, chunk, oneWayMs);
            },
            data(upstream, chunk) {
              later(upstream.data, () => client, chunk, oneWayMs);
            },
            drain: flush,
            close(upstream) {
              upstream.data.closed = true;
              setTimeout(() => client.end(), oneWayMs);
            },
            error() {},
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        if (!client.data.peer) client.data.queue.push(chunk.slice());
        else later(client.data, () => client.data.peer, chunk, oneWayMs);
      },
      drain: flush,
      close(client) {
        client.data.closed = true;
        const peer = client.data.peer;
        setTimeout(() => peer?.end(), oneWayMs);
      },
      error() {},
    },
  });
  return { port: listener.port, address: `127.0.0.1:${listener.port}`, stop: () => listener.stop(true) };
}
