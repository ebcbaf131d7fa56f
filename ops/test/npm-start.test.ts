// The README's first command, as a new user runs it: `npm start` prints one line of JSON on stdout
// and nothing else there (npm's "> pushmesh@… start" banner included); logs go to stderr.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../test-support/harness.ts";
import { ROOT, runProcess } from "../../test-support/process.ts";

test("npm start prints only the ready line of JSON on stdout, and a SIGTERM to npm stops the mesh", async () => {
  const npm = Bun.which("npm");
  if (!npm) throw new Error("npm is not on PATH");
  using dir = tempDir();
  // Settings a user's own environment may hold are dropped, so the project's .npmrc is what is tested.
  const env: Record<string, string | undefined> = Object.fromEntries(
    Object.keys(process.env).filter((k) => /^npm_config_(json|loglevel|silent)$/i.test(k)).map((k) => [k, undefined]),
  );
  await using start = runProcess([npm, "start"], {
    cwd: ROOT,
    group: true,
    env: { ...env, PUSHMESH_DB: `file:${join(dir.path, "mesh.db")}`, PUSHMESH_EDGE_PORT: "0", PUSHMESH_WS_PORT: "0", PUSHMESH_TCP_PORT: "0" },
  });
  const first = await start.nextLine(30_000);
  expect(typeof first).toBe("object");
  expect(Object.keys(first).sort()).toEqual(["apiKey", "appId", "edge", "operatorKey", "ready", "tcp", "ws"]);
  expect((await fetch(`${first.edge}/healthz`)).status).toBe(200);
  // Only npm is signalled, as a supervisor (or `docker stop`) would: it must reach the mesh.
  start.proc.kill("SIGTERM");
  // Both streams end only once the mesh, npm's child, has closed them too.
  const { stdout, stderr } = await start.finished(30_000);
  expect(stdout).toBe(`${JSON.stringify(first)}\n`);
  // npm passed the signal on: the mesh itself stopped, not only npm.
  expect(stderr).toContain('"event":"shutdown"');
  await expect(fetch(`${first.edge}/healthz`)).rejects.toThrow();
});
