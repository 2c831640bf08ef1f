// `npm run bench:dashboard`: dashboard page loads with 1,000 sessions and a session holding
// 10,000 request-log rows (DASH_SESSIONS to change). Each page is fetched 20 times after a warm-up;
// reports p50/p99 per page against the 200 ms.
import { readConfig } from "../src/runner/config.ts";
import { startServer } from "../src/runner/server.ts";
import { freePorts } from "./lib.ts";

const SESSIONS = Number(process.env.DASH_SESSIONS ?? 1000);
const KEY = "dash-bench-org-key-0123456789";
const ports = await freePorts(6);
const names = ["CLONES", "CLONE_STRIPE", "CLONE_TWILIO", "CLONE_EMAIL", "CLONE_AUTH", "CLONE_S3"];
const env: NodeJS.ProcessEnv = { MOLAR_CLONES_API_TOKEN: KEY, MOLAR_QUOTA_CONCURRENT_RUNS: String(SESSIONS + 10), MOLAR_QUOTA_REQUESTS_PER_MINUTE: "100000000" };
names.forEach((n, i) => (env[`MOLAR_${n}_ADDR`] = `127.0.0.1:${ports[i]}`));
const s = await startServer(readConfig(env, ["--in-memory"]));
const base = s.urls.control;
const auth = { authorization: `Bearer ${KEY}` };

const t0 = performance.now();
let busy: { runId: string; clones: { email: { url: string; apiKey: string } } } | null = null;
for (let i = 0; i < SESSIONS; i += 20) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(20, SESSIONS - i) }, (_, j) =>
      fetch(`${base}/v1/runs`, { method: "POST", headers: auth, body: JSON.stringify({ runId: `dash-${i + j}`, kinds: ["email"], metadata: { team: `t${(i + j) % 7}` } }) }).then((r) => r.json() as Promise<any>),
    ),
  );
  busy ??= batch[0];
}
console.log(`spawned ${SESSIONS} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
// 10,000 requests in the busiest session's log (the log keeps the last 10,000).
const h = { authorization: `Bearer ${busy!.clones.email.apiKey}` };
for (let i = 0; i < 10_000; i += 50) await Promise.all(Array.from({ length: 50 }, () => fetch(`${busy!.clones.email.url}/emails?limit=1`, { headers: h }).then((r) => r.arrayBuffer())));

const login = await fetch(`${base}/login`, { method: "POST", body: new URLSearchParams({ key: KEY }), redirect: "manual" });
const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
const pages = ["/", "/sessions", `/sessions/${busy!.runId}`, "/sessions?q=dash-99", "/clones/email", "/observability", "/billing", "/library", "/fleet"];
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log("| page | p50 ms | p99 ms | bytes | ≤ 200 ms |\n| --- | ---: | ---: | ---: | --- |");
let worst = 0;
for (const p of pages) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 23; i++) {
    const t = performance.now();
    const r = await fetch(`${base}${p}`, { headers: { cookie } });
    const body = await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
    if (i >= 3) times.push(performance.now() - t);
    bytes = body.byteLength;
  }
  worst = Math.max(worst, q(times, 0.5));
  console.log(`| ${p} | ${q(times, 0.5).toFixed(1)} | ${q(times, 0.99).toFixed(1)} | ${bytes} | ${q(times, 0.5) <= 200 ? "yes" : "no"} |`);
}
await s.stop();
process.exit(worst <= 200 ? 0 : 1);
