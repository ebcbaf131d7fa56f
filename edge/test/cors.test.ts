// CORS on the device-facing routes: preflights answered before the 405 check, the mesh-wide
// default for routes without a key, the key's own app for POST /v1/devices, and no CORS headers
// at all for an origin nobody allowed.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";

const PAGE = "https://page.example";
const APP_PAGE = "https://app-page.example";
const STRANGER = "https://stranger.example";

function preflight(edge: string, path: string, origin: string, method = "GET") {
  return fetch(`${edge}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization, content-type" },
  });
}

test("a preflight on a route without a key is answered for the mesh-wide origins only; other paths still answer 405", async () => {
  await using mesh = await startTestMesh({ corsOrigins: [PAGE] });
  for (const path of ["/", "/v1/nodes", "/sdk/browser.js"]) {
    const allowed = await preflight(mesh.edge, path, PAGE);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(allowed.headers.get("access-control-allow-methods")).toBe("GET, HEAD");
    expect(allowed.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
    expect(allowed.headers.get("access-control-max-age")).toBe("600");
    const refused = await preflight(mesh.edge, path, STRANGER);
    expect(refused.status).toBe(204);
    expect([...refused.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
  }
  const notDeviceFacing = await preflight(mesh.edge, "/v1/messages", PAGE, "POST");
  expect(notDeviceFacing.status).toBe(405);
  expect(notDeviceFacing.headers.get("access-control-allow-origin")).toBeNull();
});

test("an answer on a route without a key carries Access-Control-Allow-Origin for an allowed origin only", async () => {
  await using mesh = await startTestMesh({ corsOrigins: [PAGE] });
  const allowed = await fetch(`${mesh.edge}/v1/nodes`, { headers: { origin: PAGE } });
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get("access-control-allow-origin")).toBe(PAGE);
  expect(allowed.headers.get("vary")).toContain("Origin");
  const refused = await fetch(`${mesh.edge}/v1/nodes`, { headers: { origin: STRANGER } });
  expect(refused.status).toBe(200);
  expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  expect(refused.headers.get("vary")).toContain("Origin");
});

test("'*' in corsOrigins allows any origin on the routes without a key, and none on POST /v1/devices", async () => {
  await using mesh = await startTestMesh({ corsOrigins: ["*"] });
  expect((await fetch(`${mesh.edge}/`, { headers: { origin: STRANGER } })).headers.get("access-control-allow-origin")).toBe(STRANGER);
  const register = await fetch(`${mesh.edge}/v1/devices`, {
    method: "POST",
    headers: { origin: STRANGER, authorization: `Bearer ${mesh.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ deviceId: "web-1" }),
  });
  expect(register.status).toBe(201);
  expect(register.headers.get("access-control-allow-origin")).toBeNull();
});

test("POST /v1/devices follows the key's app: its origins from PUT /v1/app/cors, not another app's", async () => {
  await using mesh = await startTestMesh({ corsOrigins: [PAGE] });
  expect((await preflight(mesh.edge, "/v1/devices", APP_PAGE, "POST")).headers.get("access-control-allow-origin")).toBeNull();

  const set = await mesh.api("PUT", "/v1/app/cors", { origins: [APP_PAGE, "http://localhost:5173"] });
  expect(set).toEqual({ status: 200, body: { origins: ["http://localhost:5173", APP_PAGE].sort() } });
  expect((await mesh.api("GET", "/v1/app/cors")).body.origins).toEqual(set.body.origins);

  const allowed = await preflight(mesh.edge, "/v1/devices", APP_PAGE, "POST");
  expect(allowed.status).toBe(204);
  expect(allowed.headers.get("access-control-allow-origin")).toBe(APP_PAGE);
  expect(allowed.headers.get("access-control-allow-methods")).toBe("POST");

  const register = (key: string, origin: string) =>
    fetch(`${mesh.edge}/v1/devices`, {
      method: "POST",
      headers: { origin, authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ deviceId: "web-1" }),
    });
  expect((await register(mesh.apiKey, APP_PAGE)).headers.get("access-control-allow-origin")).toBe(APP_PAGE);
  // The mesh-wide origin does not open keyed routes.
  expect((await register(mesh.apiKey, PAGE)).headers.get("access-control-allow-origin")).toBeNull();
  const other = await mesh.api("POST", "/v1/apps", { name: "other" }, mesh.operatorKey);
  const foreign = await register(other.body.apiKey, APP_PAGE);
  expect(foreign.status).toBe(201);
  expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
});

test("PUT /v1/app/cors refuses what is not an origin, and [] allows none again", async () => {
  await using mesh = await startTestMesh();
  const bad = await mesh.api("PUT", "/v1/app/cors", { origins: ["https://app.example/path", "ftp://x"] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.origins.0", "body.origins.1"]);
  await mesh.api("PUT", "/v1/app/cors", { origins: [APP_PAGE] });
  expect((await mesh.api("PUT", "/v1/app/cors", { origins: [] })).body.origins).toEqual([]);
  expect((await preflight(mesh.edge, "/v1/devices", APP_PAGE, "POST")).headers.get("access-control-allow-origin")).toBeNull();
});

test("a registration forwarded to the home edge keeps the home edge's CORS answer", async () => {
  await using home = await startTestMesh({ nodeId: "home" });
  await using far = await startTestMesh({ nodeId: "far", forwardWritesTo: home.edge });
  await home.api("PUT", "/v1/app/cors", { origins: [APP_PAGE] });
  const res = await fetch(`${far.edge}/v1/devices`, {
    method: "POST",
    headers: { origin: APP_PAGE, authorization: `Bearer ${home.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ deviceId: "web-far" }),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get("access-control-allow-origin")).toBe(APP_PAGE);
});
