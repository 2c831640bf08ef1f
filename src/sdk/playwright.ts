// A Playwright fixture: every test that asks for `run` gets its own fresh world, torn down after
// it passes and kept (with a snapshot, noted in the report) when it fails.
import { test as base } from "@playwright/test";
import { clones, type Run, type StartOptions } from "./index.ts";

/**
 * @example
 * import { test, expect } from "@molar/clones/playwright";
 * test.use({ runOptions: { kinds: ["auth"] } });
 * test("shows the dashboard when signed in", async ({ run, page, context }) => { ... });
 */
export const test = base.extend<{ runOptions: StartOptions; run: Run }>({
  runOptions: [{}, { option: true }],
  run: async ({ runOptions }, use, testInfo) => {
    const run = await clones.start(runOptions);
    await use(run);
    if (testInfo.status !== testInfo.expectedStatus) {
      const snap = await run.snapshots.save(`failed: ${testInfo.title}`).catch(() => null);
      testInfo.annotations.push({ type: "molar-run", description: `kept run ${run.runId}${snap ? `, snapshot ${snap.id}` : ""} (${run.adminUrl})` });
    } else {
      await run.teardown().catch(() => undefined);
    }
  },
});

export { expect } from "@playwright/test";
export { clones };
