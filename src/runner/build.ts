// Bundles the Worker for Miniflare with esbuild, in memory: the same entry wrangler deploys.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The bundled Worker as one ES module's source. */
export async function buildWorker(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(ROOT, "src/index.ts")],
    write: false,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    loader: { ".sql": "text" },
    logLevel: "error",
    legalComments: "none",
  });
  return out.outputFiles[0].text;
}
