// `npm run bench`: starts the local runner in-process (in memory) and two reference workers, runs
// every scenario of scenarios.ts, prints a markdown table and writes bench/results/latest.json.
// Exit 0 whatever the verdicts (it is a report); 1 when a scenario broke (threw, or met non-2xx
// answers or transport errors where it expected only 2xx).
//
// Settings (env): BENCH_DURATION (s, default 5), BENCH_WARMUP (s, default 1),
// BENCH_CONNECTIONS (throughput rows, default 10), BENCH_ONLY (a regex over scenario ids; rows
// other rows depend on must be included too).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readConfig } from "../src/runner/config.ts";
import { startServer, type Running } from "../src/runner/server.ts";
import { startBareDo, startHello, type Baseline } from "./baselines.ts";
import { call, freePorts, type Measure } from "./lib.ts";
import { SCENARIOS, type Ctx, type RunInfo, type Scenario, type Settings } from "./scenarios.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const API_TOKEN = "mck_bench_0123456789abcdefghijklmnop";

interface Row {
  id: string;
  name: string;
  target: string | null;
  verdict: "PASS" | "FAIL" | "—" | "ERROR";
  broken: boolean;
  error?: string;
  ratioToCeiling?: number | null;
  measure?: Measure;
}

const num = (v: string | undefined, d: number) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
const log = (s: string) => process.stderr.write(s + "\n");

function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  return v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1);
}
const fmtRps = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Math.round(v).toLocaleString("en"));
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function errorsCell(m: Measure | undefined): string {
  if (!m) return "—";
  const n = m.errors + m.non2xx;
  if (n === 0) return "0";
  const parts: string[] = [];
  if (m.non2xx) parts.push(`${m.non2xx} non-2xx`);
  if (m.errors) parts.push(`${m.errors} conn/timeout`);
  return `${n} (${parts.join(", ")})`;
}

function table(rows: Row[]): string {
  const lines = ["| scenario | p50 ms | p99 ms | req/s | errors | target | verdict |", "| --- | ---: | ---: | ---: | ---: | --- | --- |"];
  for (const r of rows) {
    const m = r.measure;
    lines.push(`| ${r.name} | ${fmtMs(m?.p50)} | ${fmtMs(m?.p99)} | ${fmtRps(m?.rps)} | ${errorsCell(m)} | ${r.target ?? "—"} | ${r.verdict} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const settings: Settings = {
    duration: num(process.env.BENCH_DURATION, 5),
    warmup: num(process.env.BENCH_WARMUP, 1),
    connections: Math.round(num(process.env.BENCH_CONNECTIONS, 10)),
  };
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const scenarios: Scenario[] = SCENARIOS.filter((s) => !only || only.test(s.id));
  const started = new Date();

  const [control, stripe, twilio, email, auth, s3, helloPort, bareDoPort] = await freePorts(8);
  const addr = (p: number) => `127.0.0.1:${p}`;
  const env: NodeJS.ProcessEnv = {
    MOLAR_CLONES_ADDR: addr(control),
    MOLAR_CLONE_STRIPE_ADDR: addr(stripe),
    MOLAR_CLONE_TWILIO_ADDR: addr(twilio),
    MOLAR_CLONE_EMAIL_ADDR: addr(email),
    MOLAR_CLONE_AUTH_ADDR: addr(auth),
    MOLAR_CLONE_S3_ADDR: addr(s3),
    MOLAR_CLONES_API_TOKEN: API_TOKEN,
    // The spawn rows make thousands of runs and the email rows send tens of thousands of requests
    // into one run: the default quotas (100 runs, 120,000 requests a minute) are not what is measured.
    MOLAR_QUOTA_CONCURRENT_RUNS: "1000000",
    MOLAR_QUOTA_REQUESTS_PER_MINUTE: "1000000000",
  };

  let stack: Running | null = null;
  let hello: Baseline | null = null;
  let bareDo: Baseline | null = null;
  const stopAll = async () => {
    const all = [stack, hello, bareDo].filter((x): x is Running | Baseline => x !== null);
    stack = hello = bareDo = null;
    await Promise.allSettled(all.map((x) => x.stop()));
  };
  const onSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const rows: Row[] = [];
  try {
    log(`bench: starting the runner (control ${addr(control)}, email ${addr(email)}) and the baselines (${addr(helloPort)}, ${addr(bareDoPort)})…`);
    const t0 = performance.now();
    [stack, hello, bareDo] = await Promise.all([startServer(readConfig(env, ["--in-memory"])), startHello(helloPort), startBareDo(bareDoPort)]);
    await call("GET", `${stack.urls.control}/healthz`);
    log(`bench: up in ${Math.round(performance.now() - t0)} ms; ${scenarios.length} scenarios, ${settings.duration} s each (+${settings.warmup} s warm-up), N = ${settings.connections} connections`);

    const s = stack;
    const runs: RunInfo[] = [];
    const spawn = async () => {
      const r = await call<RunInfo>("POST", `${s.urls.control}/v1/runs`, { token: s.apiToken, body: { kinds: ["email"], ttlSeconds: 3600 } });
      runs.push(r);
      return r;
    };
    const quiesceOne = async (run: RunInfo, timeoutMs: number) => {
      const t = performance.now();
      for (;;) {
        // A long job drain can hold workerd's one thread for seconds; a kept-alive socket may then
        // be closed under the request (ECONNRESET, or undici's "other side closed"). Ask again.
        const next = await call<{ data: unknown[] }>("GET", `${run.adminUrl}/clock/next?limit=1`, { token: run.token }).catch((e: Error) => {
          log(`bench:   (quiesce: ${e.message}; retrying)`);
          return { data: [null] };
        });
        if (next.data.length === 0) return performance.now() - t;
        if (performance.now() - t > timeoutMs) {
          log(`bench:   warning: run ${run.runId} still has scheduled work after ${timeoutMs} ms; going on`);
          return performance.now() - t;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const quiesce = async (run?: RunInfo, timeoutMs = 60_000) => {
      const t = performance.now();
      for (const r of run ? [run] : runs) await quiesceOne(r, timeoutMs);
      return performance.now() - t;
    };
    let emailRun: Promise<RunInfo> | null = null;
    const ctx: Ctx = {
      stack: s,
      hello,
      bareDo,
      settings,
      results: new Map(),
      spawn,
      emailRun: () => (emailRun ??= spawn()),
      quiesce,
      state: {},
    };

    for (const sc of scenarios) {
      const t = performance.now();
      log(`bench: ${sc.id}…`);
      const row: Row = { id: sc.id, name: sc.name, target: sc.target?.label ?? null, verdict: "—", broken: false };
      try {
        await quiesce();
        const m = await sc.run(ctx);
        ctx.results.set(sc.id, m);
        row.measure = m;
        if (sc.expect2xx !== false && (m.errors > 0 || m.non2xx > 0)) {
          row.broken = true;
          log(`bench:   ${sc.id} had ${m.non2xx} non-2xx answers and ${m.errors} transport errors; status codes ${JSON.stringify(m.statusCodes ?? {})}`);
          for (const x of m.samples ?? []) log(`bench:     e.g. ${x}`);
        }
        if (sc.target) row.verdict = sc.target.check(m) ? "PASS" : "FAIL";
      } catch (e) {
        row.verdict = "ERROR";
        row.broken = true;
        row.error = e instanceof Error ? e.message : String(e);
        log(`bench:   ${sc.id} failed: ${row.error}`);
      }
      log(`bench:   ${sc.id} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      rows.push(row);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  }

  // Throughput against the ceiling: the hello world at the same connection count.
  const ceilingFor = (c: number | undefined) => rows.find((r) => r.id === (c === 1 ? "hello-1" : "hello-n"))?.measure?.rps ?? null;
  const ratioLines: string[] = [];
  for (const r of rows) {
    const sc = scenarios.find((x) => x.id === r.id);
    const m = r.measure;
    if (!sc?.ceilingRatio || !m?.rps || r.id.startsWith("hello-")) continue;
    const ceil = ceilingFor(m.connections);
    r.ratioToCeiling = ceil ? m.rps / ceil : null;
    if (r.ratioToCeiling !== null) ratioLines.push(`${r.name}: ${fmtRps(m.rps)} req/s = ${pct(r.ratioToCeiling)} of the ceiling`);
  }

  const helloN = rows.find((r) => r.id === "hello-n")?.measure;
  const hello1 = rows.find((r) => r.id === "hello-1")?.measure;
  const snap = rows.find((r) => r.id === "snapshot-restore")?.measure?.extra;

  const out: string[] = [];
  out.push("");
  out.push(`## Molar Clones benchmark — ${started.toISOString()}`);
  out.push("");
  out.push(`${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}; ${settings.duration} s per load row after ${settings.warmup} s warm-up; N = ${settings.connections} connections. Latencies are per request (sub-ms), req/s counts 2xx answers.`);
  out.push("");
  out.push(table(rows));
  out.push("");
  if (helloN?.rps) out.push(`bare workerd hello world: ${fmtRps(helloN.rps)} req/s at ${helloN.connections} connections${hello1?.rps ? ` (${fmtRps(hello1.rps)} req/s at 1)` : ""} — the ceiling.`);
  for (const l of ratioLines) out.push(`- ${l}`);
  if (snap) {
    out.push("");
    out.push(
      `snapshot + restore of ${(snap.resources as number).toLocaleString("en")} resources (${JSON.stringify(snap.counts)}): snapshot ${fmtMs(snap.snapshotMedianMs as number)} ms + restore ${fmtMs(snap.restoreMedianMs as number)} ms (medians of ${snap.iterations}); bundle ${(snap.bundleBytes as number).toLocaleString("en")} bytes (gzip); seeding took ${Math.round(snap.seedMs as number)} ms with the run's clock frozen, and its delivery jobs ${Math.round(snap.drainMs as number)} ms to fire.`,
    );
  }
  const mem = rows.find((r) => r.id === "s3-mem-10x64m")?.measure?.extra;
  if (mem) {
    out.push("");
    out.push(
      `s3: ${mem.uploads} parallel PUTs of ${mem.eachMiB} MiB at ${mem.throughputMiBps} MiB/s; workerd RSS ${mem.beforeMiB} MiB before, peak ${mem.smallPeakMiB} MiB with ${mem.smallEachMiB} MiB bodies and ${mem.peakMiB} MiB with ${mem.eachMiB} MiB bodies (+${mem.growthMiB}), ${mem.afterMiB} MiB after; peak ${mem.againPeakMiB} MiB (+${mem.againGrowthMiB}) when the 64 MiB round is repeated.`,
    );
  }
  const broken = rows.filter((r) => r.broken);
  if (broken.length) {
    out.push("");
    out.push(`BROKEN: ${broken.map((r) => `${r.id}${r.error ? ` (${r.error})` : ` (${errorsCell(r.measure)})`}`).join("; ")}`);
  }
  console.log(out.join("\n"));

  const dir = path.join(HERE, "results");
  fs.mkdirSync(dir, { recursive: true });
  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, platform: `${os.platform()} ${os.release()}`, node: process.version },
    settings,
    ceiling: { rps: helloN?.rps ?? null, connections: helloN?.connections ?? null, rps1: hello1?.rps ?? null },
    scenarios: rows.map((r) => ({
      id: r.id,
      name: r.name.trim(),
      target: r.target,
      verdict: r.verdict,
      broken: r.broken,
      ...(r.error ? { error: r.error } : {}),
      p50Ms: r.measure?.p50 ?? null,
      p99Ms: r.measure?.p99 ?? null,
      rps: r.measure?.rps ?? null,
      ratioToCeiling: r.ratioToCeiling ?? null,
      ok: r.measure?.ok ?? null,
      errors: r.measure?.errors ?? null,
      non2xx: r.measure?.non2xx ?? null,
      connections: r.measure?.connections ?? null,
      durationS: r.measure?.durationS ?? null,
      statusCodes: r.measure?.statusCodes ?? null,
      samples: r.measure?.samples?.length ? r.measure.samples : undefined,
      ...(r.measure?.extra ? { extra: r.measure.extra } : {}),
    })),
  };
  const file = path.join(dir, "latest.json");
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  log(`bench: wrote ${path.relative(process.cwd(), file)}`);
  return broken.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error("bench: failed:", e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
