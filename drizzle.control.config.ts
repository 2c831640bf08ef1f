import { defineConfig } from "drizzle-kit";
export default defineConfig({ dialect: "sqlite", driver: "durable-sqlite", schema: "./src/control/schema.ts", out: "./migrations/control" });
