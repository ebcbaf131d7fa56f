// The main job as a user runs it: `dev` in its own process on a libSQL file, killed and restarted.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { MemoryStateStore } from "../../core/client/client.ts";
import { connectDevice, tempDir } from "../../test-support/harness.ts";
import { runCli, startDev } from "../../test-support/process.ts";

async function post(ready: { edge: string; apiKey: string }, path: string, body: unknown) {
  const res = await fetch(`${ready.edge}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ready.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test("dev prints one ready line; a kill -9 between send and reconnect loses nothing", async () => {
  using dir = tempDir();
  const db = join(dir.path, "mesh.db");
  const state = new MemoryStateStore();
  let creds: { deviceId: string; token: string };
  {
    await using first = await startDev(db);
    expect(Object.keys(first.ready).sort()).toEqual(["apiKey", "appId", "edge", "operatorKey", "ready", "tcp", "ws"]);
    expect(first.ready.edge).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    creds = (await post(first.ready, "/v1/devices", { deviceId: "survivor" })).body;
    {
      await using device = await connectDevice(first.ready.ws, creds, { state });
      await post(first.ready, "/v1/messages", { to: { deviceId: "survivor" }, data: { n: 1 } });
      await device.waitFor(1);
    }
    for (let n = 2; n <= 6; n++) {
      const sent = await post(first.ready, "/v1/messages", { to: { deviceId: "survivor" }, data: { n } });
      expect(sent.status).toBe(202);
    }
    await first.kill("SIGKILL");
  }
  await using second = await startDev(db);
  await using device = await connectDevice(second.ready.tcp, creds, { transport: "tcp", state });
  await device.waitFor(5);
  await Bun.sleep(150);
  expect(device.received.map((m) => m.data)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }, { n: 6 }]);
});

test("the demo app and its key survive a restart", async () => {
  using dir = tempDir();
  const db = join(dir.path, "mesh.db");
  let first: { appId: string; apiKey: string; operatorKey: string };
  {
    await using dev = await startDev(db);
    first = dev.ready;
    await dev.kill("SIGTERM");
    expect(dev.proc.exitCode).toBe(0);
  }
  await using dev = await startDev(db);
  expect(dev.ready.appId).toBe(first.appId);
  expect(dev.ready.apiKey).toBe(first.apiKey);
  expect(dev.ready.operatorKey).toBe(first.operatorKey);
  expect((await post(dev.ready, "/v1/devices", { deviceId: "x" })).status).toBe(201);
  const fleet = await fetch(`${dev.ready.edge}/v1/nodes/all`, { headers: { authorization: `Bearer ${dev.ready.operatorKey}` } });
  expect(fleet.status).toBe(200);
});

test("listen prints each message once as a JSON line and resumes where it left off", async () => {
  using dir = tempDir();
  await using dev = await startDev(join(dir.path, "mesh.db"));
  const flags = ["--edge", dev.ready.edge, "--key", dev.ready.apiKey];
  const stateFile = join(dir.path, "listen-state.json");
  const send = async (n: number) => {
    const sent = await post(dev.ready, "/v1/messages", { to: { deviceId: "cli-device" }, data: { n } });
    expect(sent.status).toBe(202);
  };
  {
    await using listener = runCli(["listen", "--device", "cli-device", "--state", stateFile, ...flags]);
    // Sends before the listener has registered its device would be refused as unknown.
    await listener.logged("connected");
    await send(1);
    await send(2);
    const lines = [await listener.nextLine(), await listener.nextLine()];
    expect(lines.map((l) => l.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(lines[0]).toMatchObject({ seq: 1, messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await listener.kill("SIGTERM");
  }
  await send(3);
  await send(4);
  await using again = runCli(["listen", "--device", "cli-device", "--state", stateFile, "--transport", "tcp", ...flags]);
  const lines = [await again.nextLine(), await again.nextLine()];
  expect(lines.map((l) => [l.seq, l.data])).toEqual([
    [3, { n: 3 }],
    [4, { n: 4 }],
  ]);
  await Bun.sleep(200);
  expect(again.lines).toHaveLength(2);
});

test("app create, device add and send work from the command line", async () => {
  using dir = tempDir();
  const db = `file:${join(dir.path, "mesh.db")}`;
  await using created = runCli(["app", "create", "shop", "--db", db]);
  const app = await created.nextLine();
  // A copy: bun's toMatchObject writes the asymmetric matchers into the object it checks.
  expect({ ...app }).toMatchObject({ appId: expect.stringMatching(/^app_/), apiKey: expect.stringMatching(/^pm_/) });
  await using dev = await startDev(join(dir.path, "mesh.db"));
  const flags = ["--edge", dev.ready.edge, "--key", app.apiKey];
  await using added = runCli(["device", "add", "--device", "till-1", ...flags]);
  expect(await added.nextLine()).toMatchObject({ deviceId: "till-1", token: expect.any(String) });
  await using sent = runCli(["send", "--device", "till-1", "--data", '{"total":12.5}', "--priority", "high", ...flags]);
  expect(await sent.nextLine()).toMatchObject({ targets: 1 });
  await using bad = runCli(["send", "--device", "nobody", "--data", "1", ...flags]);
  expect(await bad.proc.exited).toBe(1);
});

test("node drain and undrain flip a relay's flag in the registry; the relay follows", async () => {
  using dir = tempDir();
  const db = join(dir.path, "mesh.db");
  await using dev = await startDev(db);
  await using list = runCli(["node", "list", "--db", `file:${db}`]);
  expect(await list.nextLine()).toMatchObject({ id: "relay-1", draining: false });
  await using drain = runCli(["node", "drain", "relay-1", "--db", `file:${db}`]);
  expect(await drain.nextLine()).toEqual({ node: "relay-1", draining: true });
  // Visible to the relay within its report interval (1 s): it stops answering ready.
  const readyz = `${dev.ready.ws.replace("ws://", "http://")}/readyz`;
  let status = 200;
  for (let i = 0; i < 40 && status === 200; i++) {
    await Bun.sleep(100);
    status = (await fetch(readyz)).status;
  }
  expect(status).toBe(503);
  await using undrain = runCli(["node", "undrain", "relay-1", "--db", `file:${db}`]);
  expect(await undrain.nextLine()).toEqual({ node: "relay-1", draining: false });
  await using missing = runCli(["node", "drain", "nope", "--db", `file:${db}`]);
  expect(await missing.proc.exited).toBe(1);
});

test.serial("cluster prints one line describing the topology, and SIGINT stops every process it started", async () => {
  await using cluster = runCli(["cluster", "--regions", "a,b", "--relays-per-region", "1"]);
  const topology = await cluster.nextLine(60_000);
  expect(topology).toMatchObject({ ready: true, apiKey: expect.stringMatching(/^pm_/), redis: expect.stringMatching(/^redis:\/\//) });
  expect(Object.keys(topology.regions)).toEqual(["a", "b"]);
  const pids: number[] = Object.values(topology.regions as Record<string, { relays: { pid: number }[] }>).flatMap((r) => r.relays.map((x) => x.pid));
  expect(pids).toHaveLength(2);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  expect(pids.every(alive)).toBe(true);
  // Region b's edge ranks region b's relay first once its replica has both registrations.
  let first = "";
  for (let i = 0; i < 50 && first !== "b-relay-1"; i++) {
    const nodes = (await (await fetch(`${topology.regions.b.edge}/v1/nodes?region=b`)).json()) as { nodes: { id: string }[] };
    first = nodes.nodes.length === 2 ? (nodes.nodes[0]?.id ?? "") : "";
    if (first !== "b-relay-1") await Bun.sleep(100);
  }
  expect(first).toBe("b-relay-1");
  cluster.proc.kill("SIGINT");
  expect(await cluster.proc.exited).toBe(0);
  expect(pids.some(alive)).toBe(false);
}, 90_000);
