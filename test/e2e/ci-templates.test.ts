// The CI templates in examples/ci (issue 7): parsed as GitHub Actions workflows, and the PR
// preview's shell steps run as written (the published bin swapped for this checkout's CLI)
// against the suite's instance: opened → spawn, synchronize → extend, closed → teardown.
import { describe, expect, it, inject } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { api, uniqueId, urls } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const sh = promisify(execFile);
const load = (f: string) => parse(readFileSync(path.join(ROOT, "examples/ci", f), "utf8"));
const CLI = `${process.execPath} ${path.join(ROOT, "src/cli/main.ts")}`;

describe("CI templates", () => {
  it("library mode: install and test, nothing else", () => {
    const wf = load("library-mode.yml");
    const steps = wf.jobs.test.steps as { run?: string; uses?: string; with?: Record<string, unknown> }[];
    expect(steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).toBe(24);
    expect(steps.filter((s) => s.run).map((s) => s.run)).toEqual(["npm ci", "npm test"]);
  });

  it("PR preview: its steps spawn, extend and tear down the PR's run", async () => {
    const wf = load("pr-preview.yml");
    expect(wf.on.pull_request.types).toEqual(["opened", "reopened", "synchronize", "closed"]);
    const work = mkdtempSync(path.join(os.tmpdir(), "molar-ci-"));
    const runId = uniqueId("pr");
    const env = { ...process.env, MOLAR_CLONES_CTRL_URL: urls().control, MOLAR_CLONES_API_TOKEN: inject("orgKey"), RUN_ID: runId };
    const job = async (name: "up" | "down") => {
      for (const step of wf.jobs[name].steps as { run?: string }[]) {
        if (!step.run) continue;
        await sh("bash", ["-eo", "pipefail", "-c", step.run.replaceAll("npx -y -p @molar/clones molar-clones", CLI)], { cwd: work, env });
      }
    };
    try {
      await job("up");
      const first = (await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json;
      expect(first.status).toBe("active");
      const dotenv = readFileSync(path.join(work, ".env.preview"), "utf8");
      expect(dotenv).toMatch(/^STRIPE_SECRET_KEY=sk_test_/m);
      expect(dotenv).toMatch(new RegExp(`^MOLAR_CLONE_EMAIL_ADMIN_URL=.*/admin/v1/runs/${runId}$`, "m"));
      // A push to the PR: the same run, kept longer.
      await job("up");
      const second = (await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json;
      expect(second.createdAt).toBe(first.createdAt);
      expect(Date.parse(second.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
      await job("down");
      expect((await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.status).toBe("torn_down");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
