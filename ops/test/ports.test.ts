// A port that another process holds: the CLI names the listener and the port, says what to do,
// and exits with PORT_IN_USE instead of a runtime stack trace.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../test-support/harness.ts";
import { runCli } from "../../test-support/process.ts";

test("dev, relay and edge name the listener whose port is taken, and how to choose others", async () => {
  using dir = tempDir();
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const port = String(taken.port);
    const db = (name: string) => `file:${join(dir.path, `${name}.db`)}`;
    const runs: [string[], string, string][] = [
      [["dev", "--db", db("a"), "--edge-port", port, "--ws-port", "0", "--tcp-port", "0"], "edge HTTP", "npm start -- --edge-port 0 --ws-port 0 --tcp-port 0"],
      [["dev", "--db", db("b"), "--edge-port", "0", "--ws-port", port, "--tcp-port", "0"], "relay WebSocket", "--ws-port"],
      [["dev", "--db", db("c"), "--edge-port", "0", "--ws-port", "0", "--tcp-port", port], "relay TCP", "--tcp-port"],
      [["relay", "--db", db("d"), "--ws-port", "0", "--tcp-port", port], "relay TCP", "relay … --ws-port 0 --tcp-port 0"],
      [["edge", "--db", db("e"), "--edge-port", port], "edge HTTP", "edge … --edge-port 0"],
    ];
    const results = await Promise.all(runs.map(([args]) => runCli(args).finished(30_000)));
    results.forEach((result, i) => {
      const [args, listener, advice] = runs[i]!;
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toContain(`pushmesh: PORT_IN_USE: the ${listener} listener cannot listen on 127.0.0.1:${port}`);
      expect(result.stderr).toContain("perhaps another pushmesh mesh is still running");
      expect(result.stderr).toContain("0 = any free port");
      expect(result.stderr).toContain(advice);
      expect(result.stderr).not.toContain("Is port");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe("");
    });
  } finally {
    taken.stop(true);
  }
});
