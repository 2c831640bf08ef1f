// Bundles the Worker for Miniflare with esbuild: the same entry wrangler deploys.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Builds dist/worker.js and answers its path. */
export async function buildWorker(outdir = path.join(ROOT, "dist")): Promise<string> {
  const outfile = path.join(outdir, "worker.js");
  await build({
    entryPoints: [path.join(ROOT, "src/index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    loader: { ".sql": "text" },
    logLevel: "error",
    sourcemap: "linked",
    legalComments: "none",
  });
  return outfile;
}
