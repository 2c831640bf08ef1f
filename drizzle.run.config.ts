import { defineConfig } from "drizzle-kit";
export default defineConfig({ dialect: "sqlite", driver: "durable-sqlite", schema: ["./src/kernel/schema.ts", "./src/vendors/*/schema.ts"], out: "./migrations/run" });
