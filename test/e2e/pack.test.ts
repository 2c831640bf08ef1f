// The package as a new project meets it: `npm pack`, install the tarball beside `resend` and
// `vitest`, write a ten-line test, and run it in library mode and in service mode.
import { describe, expect, it, inject, beforeAll, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
const sh = promisify(execFile);
const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  sh("npm", args, { cwd, env: { ...process.env, ...env, npm_config_audit: "false", npm_config_fund: "false" }, maxBuffer: 16 << 20 });

const WELCOME = `import { test, expect } from "vitest";
import { clones } from "@molar/clones";
import { Resend } from "resend";

test("sends a welcome email", async () => {
  const run = await clones.start({ kinds: ["email"] });
  const resend = new Resend(run.email.apiKey, run.email.config);
  await resend.emails.send({ from: "a@acme.test", to: "new@user.test", subject: "Welcome", text: "Hi" });
  await run.clock.advance("5s");
  const mail = await run.inbox.waitFor({ to: "new@user.test" });
  expect(mail.subject).toBe("Welcome");
  await run.teardown();
});
`;

// Issue 7's ten lines: charge a card through \`stripe\`, advance the clock, read the receipt email.
const CHECKOUT = `import { test, expect } from "vitest";
import { clones } from "@molar/clones";
import Stripe from "stripe";

test("charges a card and emails the receipt", async () => {
  const run = await clones.start({ kinds: ["stripe"] });
  const stripe = new Stripe(run.stripe.secretKey, run.stripe.config);
  await stripe.paymentIntents.create({ amount: 1999, currency: "usd", payment_method: "pm_card_visa", confirm: true, receipt_email: "buyer@acme.test" });
  await run.clock.advance("1h");
  const receipt = await run.inbox.waitFor({ to: "buyer@acme.test" });
  expect(receipt.subject).toMatch(/^Your receipt from .* #\\d{4}-\\d{4}$/);
  await run.teardown();
});
`;

// The global-setup recipe: one run for the whole suite, made before any file runs, attached to
// by every file from its env block (nothing spawned per test), torn down at the end.
const VITEST_CONFIG = `import { defineConfig } from "vitest/config";
export default defineConfig({ test: { globalSetup: ["./global-setup.ts"] } });
`;
const GLOBAL_SETUP = `import type { TestProject } from "vitest/node";
import { clones } from "@molar/clones";

export default async function setup(project: TestProject) {
  const run = await clones.start({ kinds: ["email"] });
  project.provide("molarEnv", run.env);
  return async () => {
    await run.teardown();
    await clones.stop();
  };
}
`;
const SHARED = `import { test, expect, inject } from "vitest";
import { clones } from "@molar/clones";
import { Resend } from "resend";

test("uses the suite's run", async () => {
  const run = clones.attach(inject("molarEnv" as never));
  const resend = new Resend(run.email.apiKey, run.email.config);
  await resend.emails.send({ from: "a@acme.test", to: "shared@user.test", subject: "Shared", text: "Hi" });
  await run.clock.advance("5s");
  expect((await run.inbox.waitFor({ to: "shared@user.test" })).subject).toBe("Shared");
});
`;

const FIXTURE = `import { expect } from "vitest";
import { test } from "@molar/clones/vitest";

test.scoped({ runOptions: { kinds: ["email"] } });
test("each test gets its own world", async ({ run }) => {
  expect(await run.inbox.list()).toEqual([]);
  expect(run.email.config.baseUrl).toMatch(/^http:/);
});
`;

describe("the packed package in a new project", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "molar-pack-"));
    const { stdout } = await npm(["pack", "--json", "--pack-destination", dir], ROOT);
    // prepack's own output comes first; npm's JSON report is the last thing printed.
    const tgz = path.join(dir, (JSON.parse(stdout.slice(stdout.lastIndexOf("\n[") + 1)) as { filename: string }[])[0].filename);
    const proj = path.join(dir, "app");
    await sh("mkdir", [proj]);
    writeFileSync(path.join(proj, "package.json"), JSON.stringify({ name: "new-app", private: true, type: "module" }));
    await npm(["install", "--prefer-offline", "-D", tgz, "resend", "stripe", "vitest@5"], proj);
    writeFileSync(path.join(proj, "welcome.test.ts"), WELCOME);
    writeFileSync(path.join(proj, "fixture.test.ts"), FIXTURE);
    writeFileSync(path.join(proj, "checkout.test.ts"), CHECKOUT);
    writeFileSync(path.join(proj, "vitest.config.ts"), VITEST_CONFIG);
    writeFileSync(path.join(proj, "global-setup.ts"), GLOBAL_SETUP);
    writeFileSync(path.join(proj, "shared.test.ts"), SHARED);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const vitest = (env: NodeJS.ProcessEnv = {}) =>
    sh(process.execPath, [path.join(dir, "app/node_modules/vitest/vitest.mjs"), "run"], { cwd: path.join(dir, "app"), env: { ...process.env, ...env } }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it("passes in library mode (the clones start inside the test process)", async () => {
    const r = await vitest({ MOLAR_CLONES_CTRL_URL: "", MOLAR_CLONES_API_TOKEN: "" });
    expect(r.out).toMatch(/Tests\s+.*4 passed/);
    expect(r.code).toBe(0);
  }, 60_000);

  it("passes in service mode against a running instance", async () => {
    const r = await vitest({ MOLAR_CLONES_CTRL_URL: inject("urls").control, MOLAR_CLONES_API_TOKEN: inject("orgKey") });
    expect(r.out).toMatch(/Tests\s+.*4 passed/);
    expect(r.code).toBe(0);
  }, 60_000);

  it("installs the molar-clones command", async () => {
    const bin = path.join(dir, "app/node_modules/.bin/molar-clones");
    const { stdout } = await sh(bin, ["runs", "ls", "--json"], { env: { ...process.env, MOLAR_CLONES_CTRL_URL: inject("urls").control, MOLAR_CLONES_API_TOKEN: inject("orgKey") } });
    expect(Array.isArray(JSON.parse(stdout))).toBe(true);
  });
});
