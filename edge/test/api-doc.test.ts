// docs/api.md says what /openapi.json says: every route with its scope, its success statuses and
// every error code of every status (the table's own codes plus the rules it states for all routes),
// and each id's length.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestMesh } from "../../test-support/harness.ts";

const API_MD = readFileSync(join(import.meta.dir, "../../docs/api.md"), "utf8");

function section(title: string): string {
  const start = API_MD.indexOf(`\n${title}\n`);
  if (start < 0) throw new Error(`docs/api.md has no ${title}`);
  const end = API_MD.indexOf("\n## ", start + title.length + 2);
  return API_MD.slice(start, end < 0 ? undefined : end);
}

const tableRows = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));

/** "404 `A`, `B`; 422 `C`" → {404: [A, B], 422: [C]} */
function codesByStatus(cell: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of cell.split(";").map((p) => p.trim()).filter(Boolean)) {
    const [status, ...codes] = part.split(/[\s,]+/);
    out[status!] = codes.map((c) => c.replaceAll("`", ""));
  }
  return out;
}

/** The codes docs/api.md says every route of this kind answers, besides its own. */
function statedForAll(method: string, path: string, scope: string | null, hasBody: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = { "400": ["INVALID_REQUEST"], "500": ["INTERNAL"] };
  const add = (status: string, code: string) => (out[status] ??= []).push(code);
  if (hasBody) {
    add("400", "BAD_JSON");
    add("413", "PAYLOAD_TOO_LARGE");
    add("415", "UNSUPPORTED_MEDIA_TYPE");
  }
  if (scope === "edge") {
    add("401", "UNAUTHORIZED");
  } else if (scope === "operator") {
    add("401", "UNAUTHORIZED");
    add("403", "OPERATOR_REQUIRED");
    add("403", "OPERATOR_TRANSPORT");
  } else if (scope) {
    add("401", "UNAUTHORIZED");
    add("403", "FORBIDDEN");
  }
  if (path.startsWith("/v1/")) {
    add("429", "RATE_LIMITED");
    if (method !== "GET" || path.startsWith("/v1/devices/{id}")) add("503", "FORWARD_FAILED");
  }
  return out;
}

test("docs/api.md lists every route with the scope, statuses and error codes /openapi.json documents", async () => {
  await using mesh = await startTestMesh();
  const doc = (await (await fetch(`${mesh.edge}/openapi.json`)).json()) as any;
  const documented: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      const statuses = Object.keys(op.responses);
      const errors = Object.fromEntries(
        statuses.filter((s) => Number(s) >= 400).map((s) => [s, [...op.responses[s]["x-error-codes"]].sort()]),
      );
      documented[`${method.toUpperCase()} ${path}`] = {
        scope: op.security?.[0]?.apiKey?.[0] ?? (op.security?.[0]?.operatorKey ? "operator" : op.security?.[0]?.edgeHandover ? "edge" : null),
        success: statuses.filter((s) => Number(s) < 400),
        errors,
      };
    }
  }
  const described: Record<string, unknown> = {};
  for (const [route, scope, success, own] of tableRows(section("## Routes"))) {
    const name = route!.replaceAll("`", "");
    const [method, path] = name.split(" ") as [string, string];
    const scopeName = scope === "—" ? null : scope!.replaceAll("`", "");
    const hasBody = doc.paths[path]?.[method.toLowerCase()]?.requestBody !== undefined;
    const errors = statedForAll(method, path, scopeName, hasBody);
    for (const [status, codes] of Object.entries(codesByStatus(own!))) (errors[status] ??= []).push(...codes);
    for (const status of Object.keys(errors)) errors[status]!.sort();
    described[name] = { scope: scopeName, success: success!.split(",").map((s) => s.trim()), errors };
  }
  expect(described).toEqual(documented);
});

test("docs/api.md's id lengths are the schemas' lengths", async () => {
  await using mesh = await startTestMesh();
  const schemas = ((await (await fetch(`${mesh.edge}/openapi.json`)).json()) as any).components.schemas;
  const rows = tableRows(section("### Ids")).filter(([, , schema]) => schema !== "—");
  expect(rows.length).toBeGreaterThan(0);
  for (const [id, rule, schema] of rows) {
    const name = schema!.replaceAll("`", "");
    const max = /^1–(\d+)/.exec(rule!)?.[1];
    if (max) expect([id, schemas[name].maxLength]).toEqual([id, Number(max)]);
    else expect([id, schemas[name].format]).toEqual([id, "uuid"]);
  }
});
