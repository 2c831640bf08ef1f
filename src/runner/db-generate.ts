// `npm run db:generate [-- <name>]`: drizzle-kit migrations for every schema, each in its own
// folder: migrations/kernel, migrations/<vendor> (one set per vendor, so vendors evolve apart) and
// migrations/control. A name that starts with a set's name and "_" (`twilio_add_media`) generates
// that set only. Never edit a generated migration that has been applied.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./build.ts";

const sets: [string, string][] = [
  ["kernel", "src/kernel/schema.ts"],
  ...["stripe", "twilio", "email", "auth", "s3"].map((k): [string, string] => [k, `src/vendors/${k}/schema.ts`]),
  ["control", "src/control/schema.ts"],
];
const bin = path.join(ROOT, "node_modules/.bin/drizzle-kit");
const only = sets.find(([name]) => process.argv[2]?.startsWith(`${name}_`))?.[0];
for (const [name, schema] of sets) {
  if (only && name !== only) continue;
  if (!existsSync(path.join(ROOT, schema))) continue;
  const args = ["generate", "--dialect", "sqlite", "--driver", "durable-sqlite", "--schema", schema, "--out", `migrations/${name}`];
  if (process.argv[2]) args.push("--name", process.argv[2]);
  console.log(`db:generate ${name}`);
  execFileSync(bin, args, { cwd: ROOT, stdio: "inherit" });
}
