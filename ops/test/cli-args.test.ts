// The command line as a user types it: each command's help, the version, unknown commands, and bad
// arguments, which are named errors before anything reaches the edge.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runCli } from "../../test-support/process.ts";

/** An HTTP listener in place of the edge that records what reaches it and accepts every send. */
function recordingEdge() {
  const requests: { method: string; path: string; body: any }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const text = await req.text();
      requests.push({ method: req.method, path: new URL(req.url).pathname, body: text ? JSON.parse(text) : undefined });
      return Response.json({ messageId: "00000000-0000-4000-8000-000000000000", targets: 1 }, { status: 202 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, [Symbol.dispose]: () => void server.stop(true) };
}

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, env).finished();

test("help, --help and -h print each command's own help with examples on stdout, and exit 0", async () => {
  const [helpSend, sendHelp, sendH, listen, appCreate, global, globalHelp] = await Promise.all([
    run(["help", "send"]),
    run(["send", "--help"]),
    run(["send", "-h"]),
    run(["listen", "--help"]),
    run(["app", "create", "--help"]),
    run(["help"]),
    run(["-h"]),
  ]);
  for (const r of [helpSend, sendHelp, sendH, listen, appCreate, global, globalHelp]) expect(r.code).toBe(0);
  expect(helpSend.stdout).toStartWith("usage: npm run pushmesh -- send (--device ID[,ID…] | --topic T) --data JSON");
  expect(helpSend.stdout).toContain("examples:\n  npm run pushmesh -- send --device phone-1");
  expect(sendHelp.stdout).toBe(helpSend.stdout);
  expect(sendH.stdout).toBe(helpSend.stdout);
  expect(listen.stdout).toStartWith("usage: npm run pushmesh -- listen");
  expect(listen.stdout).toContain("--topic T[,T…]");
  expect(appCreate.stdout).toStartWith("usage: npm run pushmesh -- app create NAME");
  expect(global.stdout).toStartWith("usage: npm run pushmesh -- <command>");
  expect(globalHelp.stdout).toBe(global.stdout);
  expect(new Set([helpSend.stdout, listen.stdout, appCreate.stdout, global.stdout]).size).toBe(4);
});

test("--version prints the package's version", async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  expect(await run(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
});

test("an unknown command is named, with the nearest known one", async () => {
  const [sned, crate, banana] = await Promise.all([run(["sned", "--device", "a"]), run(["app", "crate", "shop"]), run(["banana"])]);
  expect(sned.code).toBe(2);
  expect(sned.stderr).toStartWith("pushmesh: UNKNOWN_COMMAND: 'sned' is not a command; did you mean 'send'?");
  expect(crate.code).toBe(2);
  expect(crate.stderr).toStartWith("pushmesh: UNKNOWN_COMMAND: app has no subcommand 'crate'; did you mean 'app create'?");
  expect(banana.stderr).toStartWith("pushmesh: UNKNOWN_COMMAND: 'banana' is not a command\n");
});

test("every bad argument is a named error, without a stack trace, before anything is sent", async () => {
  using edge = recordingEdge();
  const to = ["--edge", edge.url, "--key", "pm_test"];
  const cases: [string[], string][] = [
    [["send", "--device", "a", "--data", "1", "--ttl", "-5", ...to], "INVALID_ARGUMENT: --ttl takes a number from 1 to 315360000, not -5"],
    [["send", "--device", "a", "--data", "1", "--ttl=-5", ...to], "INVALID_ARGUMENT: --ttl takes a number from 1 to 315360000, not -5"],
    [["send", "--device", "a", "--data", "1", "--ttl", "abc", ...to], "INVALID_ARGUMENT: --ttl takes a whole number, not 'abc'"],
    [["send", "--device", "a", ...to], "MISSING_ARGUMENT: send needs --data JSON"],
    [["send", "--data", "1", ...to], "MISSING_ARGUMENT: send needs --device ID[,ID…] or --topic T"],
    [["send", "--device", "a", "--data", "{nope", ...to], "INVALID_ARGUMENT: --data takes JSON"],
    [["send", "--device", "a", "--data", "1", "--priority", "urgent", ...to], "INVALID_ARGUMENT: --priority takes high, normal or low, not 'urgent'"],
    [["send", "--device", "a b", "--data", "1", ...to], "INVALID_ARGUMENT: --device takes device ids"],
    [["send", "--device", "a", "--data", "1", "--transport", "tcp", ...to], "UNKNOWN_FLAG: send takes no flag --transport"],
    [["send", "--device", "a", "--data", "1", "--edge", edge.url, "--key", "not-a-key"], "INVALID_ARGUMENT: --key takes an API key (pm_…)"],
    [["send", "--device", "a", "--data", "1", "--key", "pm_test"], "MISSING_ARGUMENT: send needs --edge URL (or PUSHMESH_EDGE)"],
    [["listen", "--device", "a", "--transport", "udp", ...to], "INVALID_ARGUMENT: --transport takes ws or tcp, not 'udp'"],
    [["listen", "--device", "a", "--heartbeat", "often", ...to], "INVALID_ARGUMENT: --heartbeat takes a whole number"],
    [["listen", "--device", "a", "--topic", "no spaces", ...to], "INVALID_ARGUMENT: --topic takes topic names"],
    [["device", "add", "--device", "a", "extra", ...to], "UNEXPECTED_ARGUMENT: device add takes no arguments, not 'extra'"],
    [["dev", "--edge-port", "99999"], "INVALID_ARGUMENT: --edge-port"],
    [["cluster", "--relays-per-region", "0"], "INVALID_ARGUMENT: --relays-per-region takes a number from 1 to 64, not 0"],
    [["node", "drain"], "MISSING_ARGUMENT: node drain needs ID"],
  ];
  const results = await Promise.all(cases.map(([args]) => run(args, { PUSHMESH_EDGE: "", PUSHMESH_KEY: "" })));
  results.forEach((result, i) => {
    const [args, expected] = cases[i]!;
    expect({ args, code: result.code, stderr: result.stderr.split("\n")[0] }).toEqual({ args, code: 2, stderr: expect.stringContaining(`pushmesh: ${expected}`) });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });
  expect(edge.requests).toEqual([]);
});

test("send puts numbers, enums and JSON in the request as the API takes them", async () => {
  using edge = recordingEdge();
  const [toDevices, toTopic] = await Promise.all([
    run(["send", "--device", "a,b", "--data", '{"x":1}', "--ttl", "60", "--priority", "high", "--collapse-key", "k"], { PUSHMESH_EDGE: edge.url, PUSHMESH_KEY: "pm_test" }),
    run(["send", "--topic", "news", "--data", '"hi"', "--edge", edge.url, "--key", "pm_test"]),
  ]);
  expect(toDevices.code).toBe(0);
  expect(toTopic.code).toBe(0);
  expect(JSON.parse(toDevices.stdout)).toMatchObject({ targets: 1 });
  const bodies = edge.requests.map((r) => r.body);
  expect(bodies).toContainEqual({ to: { deviceIds: ["a", "b"] }, data: { x: 1 }, ttl: 60, priority: "high", collapseKey: "k" });
  expect(bodies).toContainEqual({ to: { topic: "news" }, data: "hi" });
});
