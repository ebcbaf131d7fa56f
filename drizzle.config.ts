import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: ["./store/schema.ts", "./store/topics-schema.ts", "./store/channels-schema.ts"],
  out: "./migrations",
  casing: "snake_case",
});
