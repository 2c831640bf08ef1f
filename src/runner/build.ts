// Bundles the Worker for Miniflare with esbuild: the same entry wrangler deploys. A packed
// package ships it prebuilt (dist/worker.js), so library mode starts without bundling.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

/** The package's root: the nearest folder above this module holding our package.json. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, "package.json");
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "@molar/clones") return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error("molar-clones: cannot find the @molar/clones package root");
    dir = up;
  }
}

export const ROOT = packageRoot();
const PREBUILT = path.join(ROOT, "dist", "worker.js");

export const WORKER_BUILD = {
  entryPoints: [path.join(ROOT, "src/index.ts")],
  bundle: true,
  format: "esm" as const,
  // "browser" so packages' browser maps apply (qs → object-inspect drops its Node `util` import).
  platform: "browser" as const,
  target: "es2023",
  conditions: ["workerd", "worker", "browser", "import"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
  loader: { ".sql": "text" as const },
  logLevel: "error" as const,
  legalComments: "none" as const,
};

/** The bundled Worker as one ES module's source: prebuilt in a packed package, else built now. */
export async function buildWorker(): Promise<string> {
  if (!existsSync(path.join(ROOT, "src")) || (existsSync(PREBUILT) && process.env.MOLAR_CLONES_REBUILD !== "1" && !existsSync(path.join(ROOT, ".git")))) {
    return readFileSync(PREBUILT, "utf8");
  }
  const { build } = await import("esbuild");
  const out = await build({ ...WORKER_BUILD, write: false });
  return out.outputFiles[0].text;
}
