import { startCluster } from "../cluster.ts";
import { stderrLog } from "../log.ts";
import { integer, list, oneOf, text } from "./args.ts";
import { defineCommand } from "./command.ts";
import { print } from "./output.ts";

export const cluster = defineCommand({
  name: "cluster",
  summary: "the whole multi-region topology on this machine; prints one line of JSON",
  flags: {
    regions: list("a,b,c", "region names; the first holds the global database (or the one primary); default a,b", {
      check: (r) => (/^[A-Za-z0-9._-]{1,64}$/.test(r) ? null : "takes region names of letters, digits and . _ -"),
    }),
    "relays-per-region": integer("N", "relay processes in each region; default 1", 1, 64),
    stores: oneOf(["homes", "one"] as const, "homes: a primary and a Redis per region, each device's messages written in its home region, and a global database (default); one: a single primary and Redis in the first region"),
    dir: text("DIR", "keep the processes' databases and logs here; default a temporary directory, removed on stop"),
  },
  description: [
    "Starts, on this machine, per region: an sqld primary (the home of the region's devices), a Redis,",
    "its relays and one edge; and one global database (apps, keys, the node registry, the directory of",
    "homes) with its primary in the first region and a replica in each other. Each process keeps",
    "embedded replicas of its region's stores. --stores one starts the older shape: one primary and",
    "Redis in the first region, a replica elsewhere. Prints one line of JSON describing it (edges,",
    "relays with their pids, the demo app's key). SIGINT stops it all.",
  ].join("\n"),
  examples: ["cluster --regions a,b,c --relays-per-region 2", "cluster --regions eu,us --dir /tmp/pushmesh-cluster"],
  async run({ flags }) {
    const regions = [...new Set(flags.regions ?? ["a", "b"])];
    const topology = await startCluster({ regions, relaysPerRegion: flags["relays-per-region"] ?? 1, homes: (flags.stores ?? "homes") === "homes", dir: flags.dir, log: stderrLog });
    const shutdown = () => void topology.stop().then(() => process.exit(0));
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
    print(topology.describe());
  },
});
