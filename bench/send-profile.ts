// Where a single send's time goes: `bun bench/send-profile.ts [seconds]` runs `pushmesh dev` under
// Bun's CPU profiler, drives POST /v1/messages with 32 requests in flight, and prints the mesh
// process's CPU time per accepted send and the profile's shares by part of the send path. Not part
// of `npm run bench` (no target of its own): it explains the latency section's throughput figures.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test-support/harness.ts";
import { runProcess } from "../test-support/process.ts";

type Frame = { functionName: string; url: string };
type ProfileNode = { id: number; callFrame: Frame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** The part of the send path a frame belongs to, by its function (native) or its file. */
const PARTS: [string, (f: Frame) => boolean][] = [
  ["SQLite: group commit statements and COMMIT dispatch", (f) => /js_run|js_exec_async/.test(f.functionName)],
  ["SQLite: one-row reads (targets, sequences)", (f) => /js_get|js_next/.test(f.functionName)],
  ["group commit JS (plan, rows as JSON)", (f) => /store\/(group-commit|message-writes|client\/local-writes)/.test(f.url)],
  ["zod validation", (f) => /zod|edge\/validation/.test(f.url)],
  ["edge middlewares and route", (f) => /\/edge\//.test(f.url)],
  ["send path JS (core/send, ids, codec, store)", (f) => /\/(core|store)\//.test(f.url)],
  ["Hono routing, context, Response", (f) => /hono/.test(f.url)],
];

export function profileShares(profile: Profile): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      const part = PARTS.find(([, test]) => test(frame));
      if (part) return part[0];
    }
    return "native outside any JS frame (HTTP server, event loop, idle)";
  };
  const time = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const part = partOf(id);
    time.set(part, (time.get(part) ?? 0) + dt);
    total += dt;
  });
  return [...time].map(([part, t]): [string, number] => [part, t / total]).sort((a, b) => b[1] - a[1]);
}

const cpuMicros = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, in 1/100 s
};

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 5);
  using dir = tempDir();
  const cli = join(import.meta.dir, "..", "ops", "cli.ts");
  const flags = ["--db", `file:${join(dir.path, "mesh.db")}`, "--edge-port", "0", "--ws-port", "0", "--tcp-port", "0", "--rate-limit-requests", "10000000"];
  const dev = runProcess([process.execPath, "--cpu-prof", `--cpu-prof-dir=${dir.path}`, cli, "dev", ...flags]);
  const { edge, apiKey } = (await dev.nextLine()) as { edge: string; apiKey: string };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${edge}${path}`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  };
  const devices = Array.from({ length: 20 }, (_, i) => `profile-${i}`);
  for (const deviceId of devices) await post("/v1/devices", { deviceId });
  const pid = dev.proc.pid;
  const cpuBefore = cpuMicros(pid);
  let accepted = 0;
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < until) if ((await post("/v1/messages", { to: { deviceId: devices[n++ % devices.length] }, data: { n } })) === 202) accepted++;
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuMicros(pid) - cpuBefore;
  await dev.kill("SIGINT");
  await dev.finished().catch(() => undefined);
  const file = readdirSync(dir.path).find((f) => f.endsWith(".cpuprofile"));
  console.log(`accepted ${accepted} in ${elapsed.toFixed(1)} s: ${(accepted / elapsed).toFixed(0)}/s; mesh CPU ${(cpu / accepted).toFixed(0)} µs per send (under the profiler)`);
  if (!file) throw new Error("the mesh wrote no CPU profile");
  for (const [part, share] of profileShares(JSON.parse(readFileSync(join(dir.path, file), "utf8")) as Profile)) console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${part}`);
}
