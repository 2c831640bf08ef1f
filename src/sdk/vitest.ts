// A Vitest fixture: every test that asks for `run` gets its own fresh world, torn down after it
// passes and kept (with a snapshot) when it fails, for debugging.
import { test as base } from "vitest";
import { clones, type Run, type StartOptions } from "./index.ts";

/**
 * @example
 * import { test } from "@molar/clones/vitest";
 * test("sends the receipt", async ({ run }) => { ... });
 * test.scoped({ runOptions: { kinds: ["stripe", "email"] } });
 */
export const test = base.extend<{ runOptions: StartOptions; run: Run }>({
  runOptions: [{}, { injected: true }],
  run: async ({ runOptions, onTestFailed }, use) => {
    const run = await clones.start(runOptions);
    let failed = false;
    onTestFailed(() => {
      failed = true;
    });
    await use(run);
    if (failed) {
      const snap = await run.snapshots.save("failed test").catch(() => null);
      console.warn(`molar-clones: kept run ${run.runId}${snap ? ` and snapshot ${snap.id}` : ""} for debugging (admin: ${run.adminUrl})`);
    } else {
      await run.teardown();
    }
  },
});

export { clones };
