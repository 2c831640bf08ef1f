// Bundles the Worker for Miniflare with esbuild: the same entry wrangler deploys. A packed
// package ships it prebuilt (dist/worker.js), so library mode starts without bundling.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/** A fingerprint of the sources (paths, sizes, mtimes): a rebuild is needed when it changes. */
function sourceKey(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const d of ["src", "migrations", "durable-objects"]) if (existsSync(path.join(ROOT, d))) walk(path.join(ROOT, d));
  h.update(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
  return h.digest("hex").slice(0, 16);
}

/**
 * The bundled Worker as one ES module's source: prebuilt in a packed package; in a checkout,
 * built with esbuild and cached under node_modules/.cache until a source file changes, so only
 * the first process after an edit pays for bundling.
 */
export async function buildWorker(): Promise<string> {
  if (!existsSync(path.join(ROOT, "src")) && existsSync(PREBUILT)) return readFileSync(PREBUILT, "utf8");
  const cacheDir = path.join(ROOT, "node_modules", ".cache", "molar-clones");
  const cached = path.join(cacheDir, `worker-${sourceKey()}.js`);
  if (existsSync(cached)) return readFileSync(cached, "utf8");
  const { build } = await import("esbuild");
  const out = await build({ ...WORKER_BUILD, write: false });
  const code = out.outputFiles[0].text;
  try {
    mkdirSync(cacheDir, { recursive: true });
    for (const f of readdirSync(cacheDir)) if (f.startsWith("worker-")) rmSync(path.join(cacheDir, f), { force: true });
    writeFileSync(cached, code);
  } catch {
    /* a read-only install still works, just without the cache */
  }
  return code;
}
