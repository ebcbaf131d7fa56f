// Bun listens with a backlog of 512 and has no option for it. When a relay dies, its devices all
// connect to the others within a few hundred milliseconds; past 512 waiting connections Linux
// drops the rest, and each device's kernel tries again only after 1, 3, 7, 15 s: the tail of a
// reconnect storm (bench/storm.ts). Calling listen(2) again on a listening socket only changes its
// backlog (up to net.core.somaxconn), so relays (and edges, ops/edge-server.ts) do that on their
// own sockets, found by port in /proc. Elsewhere than Linux, or if anything fails, a socket keeps
// Bun's backlog.
import { dlopen, FFIType } from "bun:ffi";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Log } from "../core/log.ts";

const LISTENING = "0A";

export function raiseListenBacklog(ports: number[], backlog: number, log: Log): void {
  if (process.platform !== "linux" || backlog <= 0) return;
  try {
    const libc = dlopen("libc.so.6", { listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    try {
      for (const fd of listeningSockets(new Set(ports))) {
        if (libc.symbols.listen(fd, backlog) !== 0) log("listen_backlog_unchanged", { fd, backlog });
      }
    } finally {
      libc.close();
    }
  } catch (error) {
    log("listen_backlog_unchanged", { backlog, error: String(error) });
  }
}

/** This process's file descriptors of TCP sockets listening on any of `ports`. */
function listeningSockets(ports: Set<number>): number[] {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      if (fields[3] === LISTENING && ports.has(port) && fields[9]) inodes.add(fields[9]);
    }
  }
  const fds: number[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) fds.push(Number(fd));
  }
  return fds;
}
