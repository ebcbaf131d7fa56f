// A relay's listeners queue far more than Bun's 512 connections while its event loop is busy, as
// it is when a dead relay's devices all arrive at once. The test blocks this process's event loop
// (nothing is accepted) while another process opens more connections than 512: the kernel
// completes the handshake of those that fit in the backlog, and holds back the rest.
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { silentLog } from "../../ops/log.ts";
import { tempDir } from "../../test-support/harness.ts";
import { raiseListenBacklog } from "../listen-backlog.ts";

const CONNECTIONS = 1500;

/** Opens CONNECTIONS sockets to `port` while this process does not accept; how many the kernel completed. */
function connectWhileBlocked(port: number, dir: string, name: string): number {
  const out = join(dir, `${name}.txt`);
  const script = `
    let open = 0;
    const sockets = [];
    for (let i = 0; i < ${CONNECTIONS}; i++) {
      Bun.connect({ hostname: "127.0.0.1", port: ${port}, socket: { open() { open++; }, data() {} } }).then((s) => sockets.push(s), () => {});
    }
    // Done when all are open, or when the count has not moved for a second: the kernel answers a
    // connection in the backlog at once, and one held back only when it is accepted, which the
    // blocked parent never does.
    let seen = -1, since = Date.now();
    const started = Date.now();
    while (open < ${CONNECTIONS} && Date.now() - started < 20000) {
      await Bun.sleep(50);
      if (open !== seen) { seen = open; since = Date.now(); }
      else if (open > 0 && Date.now() - since > 1000) break;
    }
    await Bun.write(${JSON.stringify(out)}, String(open));
    process.exit(0);
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "inherit" });
  // Busy, as a relay in a storm: no accept until the other process has counted.
  const until = Date.now() + 30_000;
  while (!existsSync(out) && Date.now() < until) Bun.sleepSync(5);
  child.kill();
  return Number(readFileSync(out, "utf8"));
}

/** The kernel caps any backlog at net.core.somaxconn: below what the test needs, it cannot show the difference. */
const somaxconn = existsSync("/proc/sys/net/core/somaxconn") ? Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8")) : 0;

test.skipIf(process.platform !== "linux" || somaxconn <= CONNECTIONS)("a raised backlog holds every connection that arrives while the relay is busy; Bun's 512 does not", () => {
  using dir = tempDir();
  const raised = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const plain = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    raiseListenBacklog([raised.port], 4096, silentLog);
    expect(connectWhileBlocked(raised.port, dir.path, "raised")).toBe(CONNECTIONS);
    expect(connectWhileBlocked(plain.port, dir.path, "plain")).toBeLessThan(CONNECTIONS);
  } finally {
    raised.stop(true);
    plain.stop(true);
  }
}, 60_000);
