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

// No helm binary or Docker engine exists on the machines this suite runs on (neither is in the
// npm or Debian registries they reach), so the chart is checked statically: its YAML parses,
// every value a template reads is documented in values.yaml, and the admin listener is never
// part of the public ingress.
describe("the Helm chart deploy/helm/molar-clones-bundle", () => {
  const dir = path.join(ROOT, "deploy/helm/molar-clones-bundle");
  const templates = ["statefulset.yaml", "services.yaml", "ingress.yaml", "networkpolicy.yaml", "secret.yaml", "_helpers.tpl"].map((f) => [f, readFileSync(path.join(dir, "templates", f), "utf8")] as const);

  it("parses, and reads only values that values.yaml documents", async () => {
    const { parse } = await import("yaml");
    const chart = parse(readFileSync(path.join(dir, "Chart.yaml"), "utf8"));
    expect(chart).toMatchObject({ apiVersion: "v2", name: "molar-clones-bundle", type: "application" });
    const values = parse(readFileSync(path.join(dir, "values.yaml"), "utf8"));
    for (const [file, text] of templates) {
      for (const [, ref] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        const found = ref.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), values);
        expect(found, `${file} reads .Values.${ref}`).not.toBeUndefined();
      }
    }
    expect(values.networkPolicy.denyEgress).toBe(true);
    expect(values.telemetry.enabled).toBe(false);
  });

  it("probes /healthz, keeps state on a volume, and never routes the admin listener from the Ingress", () => {
    const t = Object.fromEntries(templates);
    expect(t["statefulset.yaml"]).toMatch(/readinessProbe:\s+httpGet: \{ path: \/healthz/);
    expect(t["statefulset.yaml"]).toMatch(/livenessProbe:\s+httpGet: \{ path: \/healthz/);
    expect(t["statefulset.yaml"]).toContain("volumeClaimTemplates:");
    expect(t["ingress.yaml"]).not.toMatch(/admin|9000/);
    expect(t["services.yaml"]).toMatch(/name: \{\{ include "mc.name" \. \}\}-admin[\s\S]*type: \{\{ \.Values\.admin\.service\.type \}\}/);
    expect(t["networkpolicy.yaml"]).toContain("policyTypes: [Egress]");
    const docker = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
    expect(docker).toMatch(/ENTRYPOINT \["node", "node_modules\/@molar\/clones\/dist\/pkg\/cli\.js", "serve"\]/);
    expect(docker).toContain("MOLAR_CLONES_ADMIN_ADDR=0.0.0.0:9000");
  });
});
