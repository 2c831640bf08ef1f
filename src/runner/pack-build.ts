// `npm run build` (run by `npm pack`): what the published package runs, as JavaScript. Node does
// not strip TypeScript under node_modules, so the SDK, its Vitest fixture and the CLI are
// bundled here (sharing chunks, so the SDK's one library instance is shared), and the Worker is
// prebuilt so library mode starts without esbuild.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT, WORKER_BUILD } from "./build.ts";

const dist = path.join(ROOT, "dist");
mkdirSync(dist, { recursive: true });
rmSync(path.join(dist, "pkg"), { recursive: true, force: true });
rmSync(path.join(dist, "types"), { recursive: true, force: true });
const worker = await build({ ...WORKER_BUILD, write: false });
writeFileSync(path.join(dist, "worker.js"), worker.outputFiles[0].text);
await build({
  entryPoints: {
    index: path.join(ROOT, "src/sdk/index.ts"),
    vitest: path.join(ROOT, "src/sdk/vitest.ts"),
    twilio: path.join(ROOT, "src/sdk/twilio.ts"),
    playwright: path.join(ROOT, "src/sdk/playwright.ts"),
    cli: path.join(ROOT, "src/cli/main.ts"),
  },
  outdir: path.join(dist, "pkg"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  packages: "external",
  logLevel: "error",
  banner: { js: "#!/usr/bin/env node" },
});
// The route proxy's preload is handed to other processes by path, so it ships as a file of its own.
copyFileSync(path.join(ROOT, "src/runner/proxy-register.cjs"), path.join(dist, "pkg/proxy-register.cjs"));
// Declarations for TypeScript users; their relative imports name the emitted .js files.
execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.sdk.json"], { cwd: ROOT, stdio: "inherit" });
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
for (const f of walk(path.join(dist, "types"))) {
  writeFileSync(f, readFileSync(f, "utf8").replace(/(from\s+["']\.{1,2}\/[^"']+)\.ts(["'])/g, "$1.js$2").replace(/(import\(["']\.{1,2}\/[^"']+)\.ts(["']\))/g, "$1.js$2"));
}
console.log("build: dist/worker.js, dist/pkg/{index,vitest,cli}.js, dist/types");
