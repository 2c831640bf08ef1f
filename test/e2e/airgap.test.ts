// The air-gap bundle (issue 9): `npm run bundle` makes one tarball; unpacked inside a network
// namespace that has only loopback (no route anywhere), its sums verify, its SBOM lists the
// runtime, and it starts the clones and serves a run: nothing it needs comes from the network.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
const sh = promisify(execFile);
const ns = `molar-airgap-${process.pid}`;

function canMakeNamespaces(): string | null {
  if (process.getuid?.() !== 0) return "needs root for `ip netns`";
  try {
    execFileSync("ip", ["netns", "add", `${ns}-probe`], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", `${ns}-probe`], { stdio: "ignore" });
    return null;
  } catch {
    return "`ip netns add` is not permitted here";
  }
}
const why = canMakeNamespaces();
if (why) console.warn(`airgap.test: skipped, ${why}`);

// Runs inside the namespace: the bundle's own SDK starts the clones (library mode), spawns a run,
// sends an email to it by raw HTTP, and shows that a live host cannot be reached.
const PROBE = `
const { clones } = await import(process.argv[2]);
const out = {};
const run = await clones.start({ kinds: ["email"] });
out.runId = run.runId;
const sent = await fetch(run.email.url + "/emails", {
  method: "POST",
  headers: { authorization: "Bearer " + run.email.apiKey, "content-type": "application/json" },
  body: JSON.stringify({ from: "a@acme.test", to: "offline@acme.test", subject: "air-gapped", text: "x" }),
});
out.sendStatus = sent.status;
out.inbox = (await run.inbox.list()).map((m) => m.subject);
try {
  await fetch("https://api.stripe.com/v1/customers", { signal: AbortSignal.timeout(3000) });
  out.egress = "reached";
} catch (e) {
  out.egress = String(e.cause?.code ?? e.cause?.message ?? e.message);
}
await run.teardown();
await clones.stop();
console.log(JSON.stringify(out));
process.exit(0);
`;

describe.skipIf(why !== null)("air-gap bundle", () => {
  let dir: string;
  let meta: { bundle: string; sha256: string; bytes: number };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "molar-airgap-"));
    const { stdout } = await sh("npm", ["run", "--silent", "bundle"], { cwd: ROOT, maxBuffer: 64 << 20 });
    meta = JSON.parse(stdout.trim().split("\n").pop()!);
    await sh("tar", ["xzf", meta.bundle, "-C", dir]);
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  }, 300_000);
  afterAll(() => {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      /* never made */
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (meta) rmSync(meta.bundle, { force: true }), rmSync(`${meta.bundle}.sha256`, { force: true });
  });

  it("carries verified sums, an SBOM and the workerd binary", async () => {
    const root = path.join(dir, "molar-clones-0.1.0");
    expect(readFileSync(`${meta.bundle}.sha256`, "utf8")).toContain(meta.sha256);
    const { stdout } = await sh("sha256sum", ["--quiet", "--strict", "-c", "SHA256SUMS"], { cwd: root, maxBuffer: 64 << 20 });
    expect(stdout).toBe("");
    const sums = readFileSync(path.join(root, "SHA256SUMS"), "utf8");
    expect(sums).toMatch(/ {2}node_modules\/@cloudflare\/workerd-linux-64\/bin\/workerd\n/);
    const sbom = JSON.parse(readFileSync(path.join(root, "sbom.cdx.json"), "utf8"));
    expect(sbom.bomFormat).toBe("CycloneDX");
    const names = sbom.components.map((c: { name: string }) => c.name);
    for (const n of ["miniflare", "workerd", "hono", "jose", "drizzle-orm"]) expect(names).toContain(n);
    expect(names).not.toContain("vitest");
  });

  it("installs and serves a run inside a namespace with no route out", async () => {
    const routes = execFileSync("ip", ["netns", "exec", ns, "ip", "route"], { encoding: "utf8" });
    expect(routes.trim()).toBe("");
    const root = path.join(dir, "molar-clones-0.1.0");
    const probe = path.join(dir, "probe.mjs");
    writeFileSync(probe, PROBE);
    const entry = path.join(root, "node_modules/@molar/clones/dist/pkg/index.js");
    const { stdout } = await sh("ip", ["netns", "exec", ns, process.execPath, probe, entry], { cwd: dir, env: { ...process.env, MOLAR_CLONES_CTRL_URL: "", MOLAR_CLONES_API_TOKEN: "", HOME: dir } });
    const out = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(out).toMatchObject({ runId: expect.any(String), sendStatus: 200, inbox: ["air-gapped"] });
    expect(out.egress).not.toBe("reached");
  }, 120_000);
});
