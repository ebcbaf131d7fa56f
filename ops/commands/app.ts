import { configFrom } from "../config-args.ts";
import { openStore } from "../../store/open.ts";
import { defineCommand } from "./command.ts";
import { print } from "./output.ts";

export const appCreate = defineCommand({
  name: "app create",
  summary: "creates an app; prints its id and an API key",
  args: [{ name: "NAME", help: "the app's name" }],
  flags: {},
  configFlags: ["db"],
  description: [
    "Creates an app in the store at --db and prints one line of JSON with its appId and an API key",
    "with every scope (send, read, admin). The key is shown only here: the store keeps its hash.",
  ].join("\n"),
  examples: ["app create shop", "app create shop --db file:/var/lib/pushmesh/pushmesh.db"],
  async run({ args: [name], config: flags }) {
    const store = await openStore(configFrom(flags, process.env));
    try {
      print(await store.createApp(name!));
    } finally {
      store.close();
    }
  },
});
