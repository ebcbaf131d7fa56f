import { configFrom } from "../config-args.ts";
import { openStore } from "../../store/open.ts";
import { defineCommand } from "./command.ts";
import { print } from "./output.ts";

export const migrate = defineCommand({
  name: "migrate",
  summary: "applies migrations/ to --db",
  flags: {},
  configFlags: ["db"],
  description: "Applies the migrations in migrations/ to the database and prints {\"migrated\":true,\"db\":…}.",
  examples: ["migrate --db file:pushmesh.db", "migrate --db http://127.0.0.1:8080"],
  async run({ config: flags }) {
    const config = configFrom(flags, process.env);
    const store = await openStore(config);
    store.close();
    print({ migrated: true, db: config.db });
  },
});
