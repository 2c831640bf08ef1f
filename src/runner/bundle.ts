// `npm run bundle`: the air-gap bundle. One tarball holding the packed package, its production
// dependencies as installed for this platform (workerd's binary among them), a launcher, an
// SBOM (CycloneDX, by `npm sbom`) and SHA256SUMS, so a machine with Node >= 22.12 and no network
// installs it by unpacking: `tar xzf ... && ./molar-clones-<v>/bin/molar-clones serve`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./build.ts";

const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
const arch = `${os.platform()}-${os.arch()}`;
const name = `molar-clones-${pkg.version}`;
const work = path.join(ROOT, "dist/bundle-work");
const stage = path.join(work, name);
const out = path.join(ROOT, "dist", `${name}-airgap-${arch}.tgz`);

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });

rmSync(work, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const packed = run("npm", ["pack", "--json", "--pack-destination", stage], ROOT);
const tgz = (JSON.parse(packed.slice(packed.lastIndexOf("\n[") + 1)) as { filename: string }[])[0].filename;
writeFileSync(
  path.join(stage, "package.json"),
  JSON.stringify({ name: "molar-clones-airgap", version: pkg.version, private: true, description: "Molar Clones, offline install", dependencies: { "@molar/clones": `file:./${tgz}` } }, null, 2) + "\n",
);
// Production dependencies only; the optional workerd binary package for this platform comes with them.
run("npm", ["install", "--omit=dev", "--omit=peer", "--install-links"], stage);
writeFileSync(path.join(stage, "sbom.cdx.json"), run("npm", ["sbom", "--sbom-format", "cyclonedx", "--omit", "dev"], stage));
mkdirSync(path.join(stage, "bin"));
writeFileSync(
  path.join(stage, "bin/molar-clones"),
  '#!/bin/sh\n# Runs the bundled CLI with the Node on PATH (>= 22.12).\nexec node "$(dirname "$0")/../node_modules/@molar/clones/dist/pkg/cli.js" "$@"\n',
);
chmodSync(path.join(stage, "bin/molar-clones"), 0o755);
copyFileSync(path.join(ROOT, "README.md"), path.join(stage, "README.md"));

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.isFile() ? [p] : [];
  });
const sums = files(stage)
  .map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${path.relative(stage, f)}`)
  .sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
writeFileSync(path.join(stage, "SHA256SUMS"), sums.join("\n") + "\n");

run("tar", ["czf", out, "-C", work, name], ROOT);
const digest = createHash("sha256").update(readFileSync(out)).digest("hex");
writeFileSync(`${out}.sha256`, `${digest}  ${path.basename(out)}\n`);
const components = (JSON.parse(readFileSync(path.join(stage, "sbom.cdx.json"), "utf8")) as { components?: unknown[] }).components?.length ?? 0;
rmSync(work, { recursive: true, force: true });
console.log(
  JSON.stringify({ bundle: out, sha256: digest, bytes: statSync(out).size, files: sums.length, sbomComponents: components, platform: arch }),
);
