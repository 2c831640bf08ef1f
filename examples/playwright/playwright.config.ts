import { defineConfig } from "@playwright/test";

// Debian's Chromium (no browser download); the clones come from the fixture.
export default defineConfig({
  testDir: ".",
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    launchOptions: {
      executablePath: process.env.MOLAR_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
