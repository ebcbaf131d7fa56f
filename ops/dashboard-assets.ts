// The dashboard's browser files from the uPlot package (a runtime dependency), read from disk for
// the edge, which has no file system of its own (edge/env.ts, `dashboardAsset`).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DashboardAssetName } from "../edge/env.ts";

const uplotDist = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
const cache = new Map<DashboardAssetName, Promise<string>>();

/** One of uPlot's browser files, read once. */
export function dashboardAsset(name: DashboardAssetName): Promise<string> {
  let text = cache.get(name);
  if (!text) cache.set(name, (text = readFile(join(uplotDist, name), "utf8")));
  return text;
}
