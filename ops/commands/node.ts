// The relay registry, read and changed in the store directly (as an operator on the store's host).
import { configFrom } from "../config-args.ts";
import { openStore } from "../../store/open.ts";
import { defineCommand } from "./command.ts";
import { CliError } from "./errors.ts";
import { print } from "./output.ts";

export const nodeList = defineCommand({
  name: "node list",
  summary: "the relay registry: one JSON line per relay",
  flags: {},
  configFlags: ["db"],
  description: "Prints every relay in the registry at --db as one line of JSON: id, region, addresses, load, draining.",
  examples: ["node list", "node list --db file:/var/lib/pushmesh/pushmesh.db"],
  async run({ config: flags }) {
    const store = await openStore(configFrom(flags, process.env));
    try {
      for (const n of await store.listNodes()) print(n);
    } finally {
      store.close();
    }
  },
});

const setDraining = (draining: boolean) => async ({ args: [id], config: flags }: { args: string[]; config: Record<string, string> }) => {
  const store = await openStore(configFrom(flags, process.env));
  const action = draining ? "node.drained" : "node.undrained";
  const audited = (details: Record<string, unknown>) =>
    store.appendAudit({ at: Date.now(), actor: { kind: "cli" }, appId: null, action, target: id!, details, from: null });
  try {
    if (await store.setNodeDraining(id!, draining)) {
      await audited({});
      print({ node: id, draining });
      return;
    }
    // A multi-process relay host registers its workers as <id>.w1, <id>.w2, …: its id names them all.
    const workers = (await store.listNodes()).map((n) => n.id).filter((n) => n.startsWith(`${id}.w`) && /^\d+$/.test(n.slice(id!.length + 2)));
    for (const worker of workers) await store.setNodeDraining(worker, draining);
    if (workers.length === 0) {
      throw new CliError("NODE_NOT_FOUND", `no relay node '${id}' in the registry at ${flags.db ?? process.env.PUSHMESH_DB ?? "file:pushmesh.db"} (see node list)`);
    }
    await audited({ workers });
    print({ node: id, draining, workers });
  } finally {
    store.close();
  }
};

export const nodeDrain = defineCommand({
  name: "node drain",
  summary: "marks a relay draining: it sends its devices to other relays in paced waves",
  args: [{ name: "ID", help: "the relay's node id (see node list)" }],
  flags: {},
  configFlags: ["db"],
  description: [
    "Sets the relay's draining flag in the registry. The relay sees it within its report interval,",
    "stops answering /readyz, refuses new devices and sends its devices elsewhere at --drain-rate.",
    "The id of a multi-process relay host (relay --workers) drains every one of its workers.",
  ].join("\n"),
  examples: ["node drain relay-1", "node drain relay-1 --db file:/var/lib/pushmesh/pushmesh.db"],
  run: setDraining(true),
});

export const nodeUndrain = defineCommand({
  name: "node undrain",
  summary: "lets a drained relay accept devices again",
  args: [{ name: "ID", help: "the relay's node id (see node list)" }],
  flags: {},
  configFlags: ["db"],
  description: "Clears the relay's draining flag in the registry: it takes devices again.",
  examples: ["node undrain relay-1"],
  run: setDraining(false),
});
