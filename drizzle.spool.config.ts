import { defineConfig } from "drizzle-kit";

// The edge spool's local database (spool/), migrated apart from the store.
export default defineConfig({
  dialect: "sqlite",
  schema: ["./spool/schema.ts"],
  out: "./spool/migrations",
  casing: "snake_case",
});
