import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: ["./core/store/schema.ts", "./core/store/topics-schema.ts"],
  out: "./migrations",
  casing: "snake_case",
});
