// `npm run deploy:check`: the Worker bundles as `wrangler deploy` would, under Workers' size
// limit, with every binding the code needs; a config missing one fails naming it.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [path.join(ROOT, "src/runner/deploy-check.ts"), ...args], { cwd: ROOT }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

describe("deploy:check", () => {
  it("bundles the Worker under the size limit and reports its size", async () => {
    const r = await run([]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/bundle [\d.]+ KiB \([\d.]+ KiB gzip\)/);
  }, 60_000);

  it("fails, naming the binding, when wrangler.toml lacks one", async () => {
    const cfg = path.join(ROOT, `.wrangler-check-${process.pid}.toml`);
    writeFileSync(cfg, readFileSync(path.join(ROOT, "wrangler.toml"), "utf8").replace(/\[\[r2_buckets\]\][^[]*/, ""));
    try {
      const r = await run([path.basename(cfg)]);
      expect(r.code).toBe(1);
      expect(r.out).toContain("binding SNAPSHOTS (R2 Bucket) is missing");
    } finally {
      rmSync(cfg, { force: true });
    }
  }, 60_000);
});
