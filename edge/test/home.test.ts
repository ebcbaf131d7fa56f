// GET / on the edge: where things are, as JSON for programs and as a page for a browser.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

test("GET / answers where the API document, the docs, health and the relays are", async () => {
  await using mesh = await startTestMesh();
  const links = { service: "pushmesh edge", version: "0.1.0", openapi: "/openapi.json", docs: "docs/api.md", health: "/healthz", nodes: "/v1/nodes", dashboard: "/dashboard" };
  for (const accept of [undefined, "*/*", "application/json", "application/json, text/html;q=0.5"]) {
    const res = await fetch(`${mesh.edge}/`, { headers: accept ? { accept } : {} });
    expect({ accept, status: res.status, type: res.headers.get("content-type") }).toEqual({ accept, status: 200, type: expect.stringContaining("application/json") });
    expect(await res.json()).toEqual(links);
  }
  for (const path of [links.openapi, links.health, links.nodes, links.dashboard]) expect((await fetch(`${mesh.edge}${path}`)).status).toBe(200);
});

test("a browser gets the same links as a small HTML page", async () => {
  await using mesh = await startTestMesh();
  const res = await fetch(`${mesh.edge}/`, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).toStartWith("<!doctype html>");
  for (const href of ["/openapi.json", "/healthz", "/v1/nodes", "/dashboard"]) expect(html).toContain(`<a href="${href}">`);
  expect(html).toContain("docs/api.md");
});

test("GET / is in the API document, with both of its answers", async () => {
  await using mesh = await startTestMesh();
  const doc = (await (await fetch(`${mesh.edge}/openapi.json`)).json()) as any;
  const home = doc.paths["/"]?.get;
  expect(home).toBeDefined();
  expect(Object.keys(home.responses[200].content).sort()).toEqual(["application/json", "text/html"]);
  expect(home.security).toBeUndefined();
  expect(doc.components.schemas.Home.required).toEqual(expect.arrayContaining(["openapi", "docs", "health"]));
});
