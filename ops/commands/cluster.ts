import { startCluster } from "../cluster.ts";
import { stderrLog } from "../log.ts";
import { integer, list, text } from "./args.ts";
import { defineCommand } from "./command.ts";
import { print } from "./output.ts";

export const cluster = defineCommand({
  name: "cluster",
  summary: "the whole multi-region topology on this machine; prints one line of JSON",
  flags: {
    regions: list("a,b,c", "region names; the first holds the sqld primary and Redis; default a,b", {
      check: (r) => (/^[A-Za-z0-9._-]{1,64}$/.test(r) ? null : "takes region names of letters, digits and . _ -"),
    }),
    "relays-per-region": integer("N", "relay processes in each region; default 1", 1, 64),
    dir: text("DIR", "keep the processes' databases and logs here; default a temporary directory, removed on stop"),
  },
  description: [
    "Starts, on this machine: an sqld primary and a replica per other region, one Redis, and per region",
    "its relays and one edge, each process with an embedded replica of its region's sqld. Prints one",
    "line of JSON describing it (edges, relays with their pids, the demo app's key). SIGINT stops it all.",
  ].join("\n"),
  examples: ["cluster --regions a,b,c --relays-per-region 2", "cluster --regions eu,us --dir /tmp/pushmesh-cluster"],
  async run({ flags }) {
    const regions = [...new Set(flags.regions ?? ["a", "b"])];
    const topology = await startCluster({ regions, relaysPerRegion: flags["relays-per-region"] ?? 1, dir: flags.dir, log: stderrLog });
    const shutdown = () => void topology.stop().then(() => process.exit(0));
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
    print(topology.describe());
  },
});
