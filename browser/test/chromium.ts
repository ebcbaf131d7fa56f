// Headless Chromium from the system (Debian's package), driven by playwright-core: no browser
// download, a fresh profile per launch, nothing that phones home.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The system Chromium, or null when none is installed (`apt-get install chromium`). */
export const chromiumPath: string | null = process.env.PUSHMESH_CHROMIUM ?? CANDIDATES.find((p) => existsSync(p)) ?? null;

export async function launchChromium(): Promise<BrowserContext & AsyncDisposable> {
  if (!chromiumPath) throw new Error("no Chromium found");
  const profile = mkdtempSync(join(tmpdir(), "pushmesh-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return Object.assign(context, {
    async [Symbol.asyncDispose]() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
