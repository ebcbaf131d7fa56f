// Builds the browser SDK (browser/index.ts) into one ES module with Bun's bundler, once per process:
// the edge serves it at /sdk/browser.js, so a fresh clone needs no build step.
import { join } from "node:path";

let built: Promise<string> | null = null;

export function browserBundle(): Promise<string> {
  built ??= (async () => {
    const result = await Bun.build({ entrypoints: [join(import.meta.dir, "index.ts")], target: "browser", format: "esm", minify: true });
    if (!result.success) throw new Error(`the browser SDK did not build: ${result.logs.map(String).join("; ")}`);
    return result.outputs[0]!.text();
  })();
  // A failed build is not kept: the next request tries again.
  built.catch(() => {
    built = null;
  });
  return built;
}
