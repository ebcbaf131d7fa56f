// The relay's modules import each other in one direction only (relay.ts → session.ts →
// session-topics.ts): each lower file states what it needs of the one above as an interface.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dir;
const modules = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

/** Sibling modules each module imports, type-only imports and re-exports included. */
function siblings(file: string): string[] {
  const source = readFileSync(join(dir, file), "utf8");
  return [...source.matchAll(/^(?:import|export)\b[^;]*?from\s+"\.\/([^"/]+\.ts)"/gms)].map((m) => m[1]!);
}

test("core/relay has no import circle, type imports included", () => {
  const graph = new Map(modules.map((m) => [m, siblings(m)]));
  const circles: string[] = [];
  const visit = (m: string, path: string[]) => {
    if (path.includes(m)) return void circles.push([...path.slice(path.indexOf(m)), m].join(" → "));
    for (const next of graph.get(m) ?? []) visit(next, [...path, m]);
  };
  for (const m of modules) visit(m, []);
  expect(circles).toEqual([]);
  expect(graph.get("relay.ts")).toContain("session.ts");
  expect(graph.get("session.ts")).toContain("session-topics.ts");
  expect(graph.get("session.ts")).not.toContain("relay.ts");
  expect(graph.get("session-topics.ts")).not.toContain("session.ts");
});
