// The browser SDK as apps get it: the package export "pushmesh/browser" and the bundle the edge
// serves offer the same names, and the bundle imports no runtime.
import { expect, test } from "bun:test";
import * as exported from "pushmesh/browser";
import { browserBundle } from "./build.ts";

test("the bundle builds once per process and exports what pushmesh/browser does, with no runtime import", async () => {
  const code = await browserBundle();
  expect(await browserBundle()).toBe(code);
  const names = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(code)?.[1]?.split(",").map((e) => e.trim().split(/\s+as\s+/).pop()!);
  expect(names?.sort()).toEqual(Object.keys(exported).sort());
  expect(code).not.toMatch(/from\s*"(node:|bun)/);
});
