// The operator dashboard in a real browser (headless Chromium, from the system): it signs in with
// the operator key, shows the relays by region, drains one after a confirmation and shows it
// drained, charts the relays' minute samples with uPlot, shows the apps, looks a message up by
// id, and refuses an app key.
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { chromiumPath, launchChromium } from "../../browser/test/chromium.ts";
import { startTestMesh } from "../../test-support/harness.ts";

if (!chromiumPath) console.warn("dashboard browser test skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set PUSHMESH_CHROMIUM)");

const textOf = (page: Page, selector: string, pattern: string) =>
  page.waitForFunction(([s, p]) => new RegExp(p!).test(document.querySelector(s!)?.textContent ?? ""), [selector, pattern], { timeout: 20_000 });

test.skipIf(!chromiumPath)(
  "an operator signs in, sees the relays and apps, drains a relay after confirming and looks up a message",
  async () => {
    await using mesh = await startTestMesh();
    await mesh.addRelay({ nodeId: "relay-2" });
    await using context = await launchChromium();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      // The first confirmation is declined: nothing may change; the second is accepted.
      void (dialogs.length === 1 ? dialog.dismiss() : dialog.accept());
    });

    const minute = Date.now() - (Date.now() % 60_000);
    for (const [nodeId, pushed] of [["relay-1", 5], ["relay-2", 7]] as const) {
      await mesh.store.recordRelaySample({ nodeId, region: "local", at: minute - 60_000, pushed, delivered: pushed, p50Ms: 3, p99Ms: 9 }, 0);
    }
    await mesh.device("phone");
    for (let i = 0; i < 3; i++) await mesh.send("phone", { i });
    await page.goto(`${mesh.edge}/dashboard`);
    await page.fill("#key", mesh.apiKey);
    await page.click("#login button");
    await textOf(page, "#status", "not signed in");
    expect(await page.isHidden("#main")).toBe(true);

    await page.fill("#key", mesh.operatorKey);
    await page.click("#login button");
    await textOf(page, "#node-relay-2 .state", "^serving$");
    const nodes = (await mesh.api("GET", "/v1/nodes/all", undefined, mesh.operatorKey)).body.nodes as { id: string; region: string }[];
    for (const node of nodes) expect(await page.textContent(`#node-${node.id}`)).toContain(node.id);
    expect(await page.textContent("#nodes h3")).toContain(nodes[0]!.region);
    await textOf(page, "#apps", mesh.appId);
    // The app's last hour: three messages, all waiting for the device.
    await textOf(page, `[data-app="${mesh.appId}"] td:nth-child(4)`, "^3$");
    await textOf(page, `[data-app="${mesh.appId}"] td:nth-child(6)`, "^3$");
    // uPlot drew the last hour: four figures by relay and four by region, each a canvas with its legend.
    await page.waitForFunction(() => document.querySelectorAll("#charts canvas").length === 8, undefined, { timeout: 20_000 });
    const titles = await page.$$eval("#charts .u-title", (all) => all.map((t) => t.textContent));
    expect(titles).toContain("pushes per minute, by relay");
    expect(titles).toContain("delivery p99 (ms), by region");
    expect(await page.textContent('[data-chart="pushes per minute, by relay"] .u-legend')).toContain("relay-2");

    await page.click('button[data-node="relay-2"]');
    const declined = (await mesh.api("GET", "/v1/nodes/all", undefined, mesh.operatorKey)).body.nodes as { id: string; draining: boolean }[];
    expect(declined.find((n) => n.id === "relay-2")!.draining).toBe(false);
    expect(dialogs.length).toBe(1);
    expect(dialogs[0]).toContain("Drain relay-2");
    await page.click('button[data-node="relay-2"]');
    await textOf(page, "#node-relay-2 .state", "^draining$");
    expect(dialogs).toHaveLength(2);
    const after = (await mesh.api("GET", "/v1/nodes/all", undefined, mesh.operatorKey)).body.nodes as { id: string; draining: boolean }[];
    expect(after.find((n) => n.id === "relay-2")!.draining).toBe(true);
    expect(await page.textContent('button[data-node="relay-2"]')).toBe("Undrain");

    // The drain is in the audit log on the next refresh; an edge without the log shows an empty state.
    await textOf(page, "#audit", "node\\.drained.*relay-2");
    await page.route("**/v1/audit?*", (route) => route.fulfill({ status: 404, contentType: "application/json", body: '{"error":{"code":"NOT_FOUND","message":"no route"}}' }));
    await textOf(page, "#audit", "keeps no audit log");

    await mesh.device("phone-1");
    const { messageId } = (await mesh.send("phone-1", { hello: 1 })) as { messageId: string };
    await page.fill("#message-id", messageId);
    await page.click("#lookup button");
    await textOf(page, "#message-summary", `app ${mesh.appId}.* 1 targets: pending 1`);
    expect(await page.textContent("#target-phone-1 .state")).toBe("pending");
  },
  60_000,
);
