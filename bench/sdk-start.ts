// Run as a child process by the SDK rows of the benchmark: the first clones.start() of a fresh
// process, then further starts, measured from inside. Prints one JSON line.
import { clones } from "../src/sdk/index.ts";

const n = Number(process.argv[2] ?? 50);
const t0 = performance.now();
await clones.start({ kinds: ["email"] });
const first = performance.now() - t0;
const next: number[] = [];
for (let i = 0; i < n; i++) {
  const t = performance.now();
  const run = await clones.start({ kinds: ["email"] });
  next.push(performance.now() - t);
  await run.teardown();
}
await clones.stop();
console.log(JSON.stringify({ first, next }));
