// The edge under Deno (npm package `deno`), against the store of a Bun mesh: a send through the
// Deno edge is stored and reaches a device connected to the Bun relay. The two processes share
// only the libSQL file, not an engine, so the Deno edge cannot signal the relay: the device gets
// the message at its next heartbeat (1 s here), when the relay reads the store. A message the
// Deno edge schedules is released by the scheduler in the Bun process.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDevice, startTestMesh } from "../../test-support/harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The deno binary the npm package ships: beside its bin script once installed, else in the platform package. */
function denoBinary(): string {
  const packageDir = dirname(fileURLToPath(import.meta.resolve("deno/package.json")));
  const platform = `${process.platform}-${process.arch === "x64" ? "x64" : "arm64"}${process.platform === "linux" ? "-glibc" : ""}`;
  const candidates = [join(packageDir, "deno"), join(ROOT, "node_modules", "@deno", platform, "deno")];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`no deno binary in ${candidates.join(" or ")}; run npm install`);
  return found;
}

async function startDenoEdge(db: string) {
  const proc = Bun.spawn(
    [denoBinary(), "run", "--allow-env", "--allow-net", "--allow-read", "--allow-write", "--allow-ffi", "--allow-sys", "edge/deno.ts"],
    {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", PUSHMESH_CONFIG: JSON.stringify({ db, edgePort: 0 }) },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  while (!text.includes("\n")) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (!chunk || chunk.done) {
      proc.kill();
      throw new Error(`deno edge did not start: ${text} ${await new Response(proc.stderr).text()}`);
    }
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  const ready = JSON.parse(text.slice(0, text.indexOf("\n"))) as { ready: boolean; runtime: string; edge: string };
  return {
    ready,
    edge: ready.edge,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

test("the edge app runs under Deno: a send through it is stored and delivered by a Bun relay", async () => {
  await using mesh = await startTestMesh({ heartbeat: { min: 1, default: 1, max: 600 }, schedulerPollMs: 100 });
  await using deno = await startDenoEdge(`file:${join(mesh.dir, "mesh.db")}`);
  expect(deno.ready).toMatchObject({ ready: true, runtime: "deno" });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${deno.edge}${path}`, {
      method,
      headers: { authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  const creds = await call("POST", "/v1/devices", { deviceId: "deno-made" });
  expect(creds.status).toBe(201);
  await using device = await connectDevice(mesh.ws, creds.body, { heartbeat: 1 });

  const sent = await call("POST", "/v1/messages", { to: { deviceId: "deno-made" }, data: { via: "deno" }, category: "test" });
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ targets: 1, states: { pending: 1 } });
  expect((await mesh.store.messageTargets(mesh.appId, sent.body.messageId, 0))?.message.targetCount).toBe(1);
  expect(await mesh.store.latestSeq(mesh.appId, "deno-made")).toBe(1);
  await device.waitFor(1, 10_000);
  expect(device.received[0]).toMatchObject({ seq: 1, messageId: sent.body.messageId, data: { via: "deno" } });

  const scheduled = await call("POST", "/v1/messages", { to: { deviceId: "deno-made" }, data: { later: true }, delay: 1 });
  expect(scheduled.body.states.scheduled).toBe(1);
  await device.waitFor(2, 10_000);
  expect(device.received[1]).toMatchObject({ seq: 2, messageId: scheduled.body.messageId });

  const status = await call("GET", `/v1/messages/${sent.body.messageId}`);
  expect(status.status).toBe(200);
  expect(status.body.category).toBe("test");
  const nodes = await call("GET", "/v1/nodes");
  expect(nodes.body.nodes.map((n: any) => n.id)).toEqual(["relay-1"]);
  const doc = await call("GET", "/openapi.json");
  expect(Object.keys(doc.body.paths)).toContain("/v1/messages/batch");
});
