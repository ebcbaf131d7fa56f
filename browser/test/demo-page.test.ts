// The browser SDK in a real browser: the edge's demo page, in headless Chromium, registers a device,
// receives messages sent over HTTP and a topic's messages, and resumes across navigations and a
// reload from its localStorage state, each message exactly once.
import { expect, test } from "bun:test";
import type { ConsoleMessage, Page } from "playwright-core";
import { startTestMesh } from "../../test-support/harness.ts";
import { chromiumPath, launchChromium } from "./chromium.ts";

if (!chromiumPath) console.warn("browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set PUSHMESH_CHROMIUM)");

type Shown = { seq?: number; topic?: string; offset?: number; data: unknown };

/** What the demo page logs, one JSON line per message, across every navigation of the page. */
function collect(page: Page) {
  const shown: Shown[] = [];
  const waiters: (() => void)[] = [];
  page.on("console", (message: ConsoleMessage) => {
    const text = message.text();
    if (!text.startsWith("pushmesh-demo ")) return;
    shown.push(JSON.parse(text.slice("pushmesh-demo ".length)) as Shown);
    for (const wake of waiters.splice(0)) wake();
  });
  const until = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 20_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`the page did not show ${what}; it showed ${JSON.stringify(shown)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  };
  return { shown, until };
}

const statusIs = (page: Page, pattern: string) =>
  page.waitForFunction((p) => new RegExp(p).test(document.getElementById("status")?.textContent ?? ""), pattern, { timeout: 20_000 });

test.skipIf(!chromiumPath)(
  "the demo page receives device and topic messages, and a reload neither loses nor repeats one",
  async () => {
    await using mesh = await startTestMesh();
    await using context = await launchChromium();
    const page = await context.newPage();
    const { shown, until } = collect(page);
    const seqs = () => shown.filter((m) => m.seq !== undefined).map((m) => m.seq);
    const offsets = () => shown.filter((m) => m.topic === "news").map((m) => m.offset);
    const publish = (headline: string) => mesh.api("POST", "/v1/messages", { to: { topic: "news" }, data: { headline } });

    await page.goto(`${mesh.edge}/demo`);
    await page.fill("#key", mesh.apiKey);
    await page.fill("#device", "browser-1");
    await page.fill("#topics", "news");
    await page.click("#connect");
    await statusIs(page, "subscribed to news");

    await mesh.send("browser-1", { n: 1 });
    await mesh.send("browser-1", { n: 2 });
    expect((await publish("t1")).status).toBe(202);
    await until(() => seqs().length === 2 && offsets().length === 1, "messages 1, 2 and topic offset 1");

    // Away from the page, then back: what was sent meanwhile arrives, and nothing before it again.
    await page.goto("about:blank");
    await mesh.send("browser-1", { n: 3 });
    await mesh.send("browser-1", { n: 4 });
    expect((await publish("t2")).status).toBe(202);
    await page.goto(`${mesh.edge}/demo`);
    await until(() => seqs().length >= 4 && offsets().length >= 2, "messages 3, 4 and topic offset 2");

    // A reload with a message on its way, and one after it.
    await mesh.send("browser-1", { n: 5 });
    await page.reload();
    await statusIs(page, "connected as browser-1");
    await mesh.send("browser-1", { n: 6 });
    await until(() => seqs().includes(6), "message 6");

    // What the page handed to its app, from the tab's own record: a console line logged just
    // before a reload can be lost on its way to the test, the record cannot.
    const kept = await page.evaluate(() => JSON.parse(sessionStorage.getItem("pushmesh-demo-shown") ?? "[]") as Shown[]);
    expect(kept.filter((m) => m.seq !== undefined).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(kept.filter((m) => m.seq !== undefined).map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    expect(kept.filter((m) => m.topic !== undefined)).toEqual([
      { topic: "news", offset: 1, messageId: expect.any(String), data: { headline: "t1" } } as Shown,
      { topic: "news", offset: 2, messageId: expect.any(String), data: { headline: "t2" } } as Shown,
    ]);
  },
  90_000,
);
