import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";

// drizzle-kit writes migrations as .sql files imported as text; wrangler's [[rules]] does this on deploy.
const sqlAsText = {
  name: "sql-as-text",
  transform(_code: string, id: string) {
    if (id.endsWith(".sql")) return { code: `export default ${JSON.stringify(readFileSync(id, "utf8"))};`, map: null };
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        // Kernel internals inside workerd: transactions, the clock, the alarm, snapshots.
        plugins: [
          sqlAsText,
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                MOLAR_CLONES_API_TOKEN: "unit-test-org-key-0123456789",
                MOLAR_JWT_SECRET: "unit-test-jwt-secret-0123456789abcdef0123456789",
                MOLAR_AUTH_FAILURES_PER_MINUTE: "5",
                MOLAR_URLS: JSON.stringify({ control: "http://control.test", stripe: "http://stripe.test", twilio: "http://twilio.test", email: "http://email.test", auth: "http://auth.test", s3: "http://s3.test" }),
              },
            },
          }),
        ],
        // A timeout guards against a hang, it does not measure speed (bench/ does): the 150 MiB
        // snapshot test took 5.3 s on a loaded CI machine against vitest's default of 5 s.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000 },
      },
      {
        // The official SDKs against the local runner, as users run them.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
