// `npm run soak`: 50 concurrent runs under a mixed workload for 60 s (SOAK_SECONDS, SOAK_RUNS to
// change), on loopback, against the in-process runner. Reports throughput, p50/p99, errors (must
// be 0), workerd's memory over time (must stay flat) and that the concurrent-runs quota holds.
import { readdirSync, readFileSync } from "node:fs";
import { readConfig } from "../src/runner/config.ts";
import { startServer } from "../src/runner/server.ts";
import { freePorts } from "./lib.ts";

const RUNS = Number(process.env.SOAK_RUNS ?? 50);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const KEY = "soak-org-key-0123456789abcdef";

/** Resident memory (KiB) of the workerd processes this process started. */
function workerdRssKiB(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+workerd/m.test(status) || !new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status)) continue;
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}

const ports = await freePorts(6);
const names = ["CLONES", "CLONE_STRIPE", "CLONE_TWILIO", "CLONE_EMAIL", "CLONE_AUTH", "CLONE_S3"];
const env: NodeJS.ProcessEnv = { MOLAR_CLONES_API_TOKEN: KEY, MOLAR_QUOTA_CONCURRENT_RUNS: String(RUNS), MOLAR_QUOTA_REQUESTS_PER_MINUTE: "1000000" };
names.forEach((n, i) => (env[`MOLAR_${n}_ADDR`] = `127.0.0.1:${ports[i]}`));
const s = await startServer(readConfig(env, ["--in-memory"]));
const control = s.urls.control;
const auth = { authorization: `Bearer ${KEY}` };

type Run = { runId: string; token: string; adminUrl: string; clones: { email: { url: string; apiKey: string } } };
const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await fetch(`${control}/v1/runs`, { method: "POST", headers: auth, body: JSON.stringify({ runId: `soak-${i}`, kinds: ["email"], ttlSeconds: SECONDS + 600 }) });
  if (r.status !== 201) throw new Error(`spawn ${i}: ${r.status} ${await r.text()}`);
  runs.push((await r.json()) as Run);
}
const over = await fetch(`${control}/v1/runs`, { method: "POST", headers: auth, body: "{}" });
const quotaHeld = over.status === 429 && Number(over.headers.get("retry-after")) > 0;

const lat: Record<string, number[]> = {};
const errors: string[] = [];
let ops = 0;
const mem: { at: number; kib: number }[] = [];
const t0 = performance.now();
const deadline = t0 + SECONDS * 1000;
const memTimer = setInterval(() => mem.push({ at: Math.round((performance.now() - t0) / 1000), kib: workerdRssKiB() }), 5000);
mem.push({ at: 0, kib: workerdRssKiB() });

async function timed(op: string, fn: () => Promise<Response>) {
  const t = performance.now();
  let res: Response;
  try {
    res = await fn();
    await res.arrayBuffer();
  } catch (e) {
    errors.push(`${op}: ${(e as Error).message}`);
    return;
  }
  (lat[op] ??= []).push(performance.now() - t);
  ops++;
  if (res.status >= 400) errors.push(`${op}: HTTP ${res.status}`);
}

async function worker(run: Run, w: number) {
  const email = run.clones.email;
  const h = { authorization: `Bearer ${email.apiKey}`, "content-type": "application/json" };
  const a = { authorization: `Bearer ${run.token}` };
  let last = "";
  for (let i = 0; performance.now() < deadline; i++) {
    const r = i % 20;
    if (r < 10) {
      const t = performance.now();
      const res = await fetch(`${email.url}/emails`, { method: "POST", headers: h, body: JSON.stringify({ from: "a@acme.test", to: `u${w}@acme.test`, subject: `s${i}`, text: "x" }) }).catch((e: Error) => e);
      if (res instanceof Error) errors.push(`send: ${res.message}`);
      else {
        const body = (await res.json()) as { id?: string };
        (lat.send ??= []).push(performance.now() - t);
        ops++;
        if (res.status !== 200 || !body.id) errors.push(`send: HTTP ${res.status}`);
        else last = body.id;
      }
    } else if (r < 15 && last) await timed("get", () => fetch(`${email.url}/emails/${last}`, { headers: h }));
    else if (r < 18) await timed("list", () => fetch(`${email.url}/emails?limit=20`, { headers: h }));
    else if (r === 18) await timed("advance", () => fetch(`${run.adminUrl}/clock/advance`, { method: "POST", headers: a, body: JSON.stringify({ by: "10s" }) }));
    else if (i % 200 === 19) await timed("snapshot", () => fetch(`${run.adminUrl}/snapshots`, { method: "POST", headers: a, body: "{}" }));
    else await timed("inbox", () => fetch(`${run.adminUrl}/inbox?to=u${w}@acme.test`, { headers: a }));
  }
}

await Promise.all(runs.map((r, i) => worker(r, i)));
clearInterval(memTimer);
mem.push({ at: SECONDS, kib: workerdRssKiB() });
const elapsed = (performance.now() - t0) / 1000;
await s.stop();

const q = (xs: number[], p: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN;
};
console.log(`soak: ${RUNS} runs, ${SECONDS} s, ${ops} operations, ${(ops / elapsed).toFixed(0)} ops/s, errors ${errors.length}`);
console.log("| op | count | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |");
for (const [op, xs] of Object.entries(lat)) console.log(`| ${op} | ${xs.length} | ${q(xs, 0.5).toFixed(2)} | ${q(xs, 0.99).toFixed(2)} |`);
console.log(`workerd RSS (MiB) by second: ${mem.map((m) => `${m.at}s ${(m.kib / 1024).toFixed(0)}`).join(", ")}`);
const first = mem.find((m) => m.at >= 10)?.kib ?? mem[0].kib;
const growth = first ? (mem[mem.length - 1].kib - first) / first : 0;
console.log(`memory growth after warm-up: ${(growth * 100).toFixed(1)}%; quota of ${RUNS} concurrent runs held: ${quotaHeld}`);
if (errors.length) console.log(`first errors: ${errors.slice(0, 5).join("; ")}`);
process.exit(errors.length === 0 && quotaHeld ? 0 : 1);
