import { expect, test } from "bun:test";
import { profileShares } from "./send-profile.ts";

test("profile samples are counted against the nearest frame that names a part of the send path", () => {
  const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });
  const profile = {
    nodes: [
      node(1, "(root)", "", [2, 5]),
      node(2, "loadTargets", "file:///x/store/preferences.ts", [3]),
      node(3, "libsql_js::statement::Statement::js_get", "", []),
      node(5, "dispatch", "file:///x/node_modules/hono/dist/compose.js", [6]),
      node(6, "stringify", "", []),
    ],
    samples: [3, 3, 3, 6, 1],
    timeDeltas: [10, 10, 10, 10, 10],
  };
  expect(profileShares(profile)).toEqual([
    ["SQLite: one-row reads (targets, sequences)", 0.6],
    ["Hono routing, context, Response", 0.2],
    ["native outside any JS frame (HTTP server, event loop, idle)", 0.2],
  ]);
});
