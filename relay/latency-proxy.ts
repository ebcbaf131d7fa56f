// A user-space stand-in for a wide-area link (this machine has no tc netem): a TCP proxy on
// loopback that holds every chunk for a fixed one-way delay in each direction, keeping order.
import type { Socket, TCPSocketListener } from "bun";

type Pipe = { peer: Socket<Pipe> | null; queue: Uint8Array[]; lastDue: number; closed: boolean };

export type LatencyProxy = { port: number; address: string; stop(): void };

function later(pipe: Pipe, target: () => Socket<Pipe> | null, bytes: Uint8Array, delayMs: number): void {
  // Order is kept by never scheduling a chunk before the one ahead of it.
  const due = Math.max(performance.now() + delayMs, pipe.lastDue);
  pipe.lastDue = due;
  const copy = bytes.slice();
  setTimeout(() => {
    const t = target();
    if (t && !pipe.closed) t.write(copy);
  }, Math.max(0, due - performance.now()));
}

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
        client.data = { peer: null, queue: [], lastDue: 0, closed: false };
        const upstreamState: Pipe = { peer: client, queue: [], lastDue: 0, closed: false };
        Bun.connect<Pipe>({
          hostname,
          port,
          data: upstreamState,
          socket: {
            open(upstream) {
              client.data.peer = upstream;
              for (const chunk of client.data.queue.splice(0)) later(client.data, () => upstream, chunk, oneWayMs);
            },
            data(upstream, chunk) {
              later(upstream.data, () => client, chunk, oneWayMs);
            },
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
