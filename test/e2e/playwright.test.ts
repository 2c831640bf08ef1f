// The Playwright fixture, run by Playwright's own runner against the suite's instance (service
// mode): a browser test of a small app signed in through the auth clone (examples/playwright).
import { describe, expect, it, inject } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = process.env.MOLAR_CHROMIUM ?? "/usr/bin/chromium";
const have = existsSync(CHROMIUM);
if (!have) console.warn(`playwright.test: skipped, no Chromium at ${CHROMIUM}`);

describe.skipIf(!have)("the Playwright fixture", () => {
  it("signs a browser into a small app through the auth clone", async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.join(ROOT, "node_modules/@playwright/test/cli.js"), "test", "--config", path.join(ROOT, "examples/playwright/playwright.config.ts")],
        { cwd: ROOT, env: { ...process.env, MOLAR_CLONES_CTRL_URL: inject("urls").control, MOLAR_CLONES_API_TOKEN: inject("orgKey") } },
        (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(r.out).toContain("1 passed");
    expect(r.code, r.out).toBe(0);
  }, 90_000);
});
