// A page on another origin, in headless Chromium: with its origin allowed (the mesh-wide setting
// for the SDK and the node list, the app's list for registration) it loads the SDK from the edge,
// registers a device and receives a message; from an origin nobody allowed the browser refuses it.
import { expect, test } from "bun:test";
import { startTestMesh } from "../../test-support/harness.ts";
import { chromiumPath, launchChromium } from "./chromium.ts";

if (!chromiumPath) console.warn("browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set PUSHMESH_CHROMIUM)");

/** Runs in the page: loads the SDK from the edge (keeping it on window) and registers a device; resolves with its token. */
async function register({ edge, key, deviceId }: { edge: string; key: string; deviceId: string }): Promise<string> {
  (globalThis as any).sdk = await import(/* @vite-ignore */ `${edge}/sdk/browser.js`);
  const res = await fetch(`${edge}/v1/devices`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ deviceId }),
  });
  return (await res.json()).token;
}

/** Runs in the page: connects and resolves with the first message's data. */
function receiveFirst({ edge, deviceId, token }: { edge: string; deviceId: string; token: string }): Promise<unknown> {
  return new Promise((resolve) => {
    (globalThis as any).sdk.connectBrowserDevice({ edge, deviceId, token, onMessage: (m: { data: unknown }) => resolve(m.data) });
  });
}

/** Runs in the page: how each call ends, "ok" or the error's name. */
async function tryCalls({ edge, key }: { edge: string; key: string }): Promise<Record<string, string>> {
  const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: Error) => e.name);
  return {
    sdk: await outcome(import(/* @vite-ignore */ `${edge}/sdk/browser.js`)),
    nodes: await outcome(fetch(`${edge}/v1/nodes`)),
    register: await outcome(
      fetch(`${edge}/v1/devices`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" }),
    ),
  };
}

test.skipIf(!chromiumPath)(
  "a page on an allowed origin loads the SDK from the edge and receives; one on another origin is refused by the browser",
  async () => {
    using site = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<!doctype html><title>app</title>", { headers: { "content-type": "text/html" } }) });
    const allowedOrigin = `http://127.0.0.1:${site.port}`;
    await using mesh = await startTestMesh({ corsOrigins: [allowedOrigin] });
    expect((await mesh.api("PUT", "/v1/app/cors", { origins: [allowedOrigin] })).status).toBe(200);
    await using context = await launchChromium();

    const page = await context.newPage();
    await page.goto(`${allowedOrigin}/`);
    const token = await page.evaluate(register, { edge: mesh.edge, key: mesh.apiKey, deviceId: "cross-1" });
    await mesh.send("cross-1", { hello: "page" });
    const received = page.evaluate(receiveFirst, { edge: mesh.edge, deviceId: "cross-1", token });
    expect(await received).toEqual({ hello: "page" });

    // localhost is another origin than 127.0.0.1: nobody allowed it.
    const other = await context.newPage();
    await other.goto(`http://localhost:${site.port}/`);
    expect(await other.evaluate(tryCalls, { edge: mesh.edge, key: mesh.apiKey })).toEqual({ sdk: "TypeError", nodes: "TypeError", register: "TypeError" });
  },
  90_000,
);
