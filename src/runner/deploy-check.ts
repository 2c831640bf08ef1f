// `npm run deploy:check`: bundles the Worker exactly as `wrangler deploy` would (--dry-run) and
// fails when the compressed bundle passes Workers' size limit or a binding the code needs is
// missing from wrangler.toml. Prints the bundle size.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { ROOT } from "./build.ts";

/** Workers' limit on a compressed script (paid plan); the free plan's is 3 MiB. */
const LIMIT_BYTES = Number(process.env.MOLAR_BUNDLE_LIMIT_BYTES ?? 10 * 1024 * 1024);
const NEEDED = [
  ["RUN", "Durable Object"],
  ["CONTROL", "Durable Object"],
  ["SNAPSHOTS", "R2 Bucket"],
] as const;

const outdir = path.join(ROOT, "dist", "deploy");
const config = process.argv[2] ?? "wrangler.toml";
let printed: string;
try {
  printed = execFileSync(path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "--config", config], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
} catch (e) {
  const err = e as { stdout?: string; stderr?: string };
  console.error(`deploy:check: wrangler could not bundle the Worker:\n${err.stderr ?? ""}${err.stdout ?? ""}`);
  process.exit(1);
}
const files = readdirSync(outdir).filter((f) => !f.endsWith(".map") && statSync(path.join(outdir, f)).isFile());
const raw = files.reduce((n, f) => n + statSync(path.join(outdir, f)).size, 0);
const gz = files.reduce((n, f) => n + gzipSync(readFileSync(path.join(outdir, f))).byteLength, 0);
const missing = NEEDED.filter(([name, kind]) => !new RegExp(`env\\.${name}\\b.*${kind}`).test(printed));
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`deploy:check: bundle ${kib(raw)} (${kib(gz)} gzip) in ${files.length} files; limit ${kib(LIMIT_BYTES)} gzip`);
let ok = true;
if (gz > LIMIT_BYTES) {
  console.error(`deploy:check: the compressed bundle is over Workers' limit by ${kib(gz - LIMIT_BYTES)}`);
  ok = false;
}
for (const [name, kind] of missing) {
  console.error(`deploy:check: binding ${name} (${kind}) is missing from ${config}`);
  ok = false;
}
process.exit(ok ? 0 : 1);
