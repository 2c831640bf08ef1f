// Figures across an org's active sessions, for the dashboard's observability page and /metrics.
// Each world keeps its own capped request log; this asks the newest sessions for their figures.
import type { AppEnv } from "../env.ts";
import type { RunRecord } from "./run-json.ts";

export interface RunStats {
  requests: number;
  serverErrors: number;
  clientErrors: number;
  errorInjected: number;
  p50Ms: number | null;
  p99Ms: number | null;
  byKind: Record<string, number>;
}

export interface OrgStats {
  active: number;
  sampled: { runId: string; kinds: string[]; stats: RunStats }[];
  totals: RunStats;
}

/** Asked of at most this many sessions, newest first, in parallel: a page never waits on a thousand. */
export const SAMPLE = 50;

export async function orgStats(env: AppEnv, org: string): Promise<OrgStats> {
  const ctl = env.CONTROL.get(env.CONTROL.idFromName(org));
  const runs = (await ctl.list({ status: "active" })) as RunRecord[];
  const sampled = await Promise.all(
    runs.slice(0, SAMPLE).map(async (r) => {
      const res = await env.RUN.get(env.RUN.idFromName(r.worldId)).admin(new Request("http://admin/stats"), "/stats");
      return { runId: r.runId, kinds: r.kinds, stats: (await res.json()) as RunStats };
    }),
  );
  const totals: RunStats = { requests: 0, serverErrors: 0, clientErrors: 0, errorInjected: 0, p50Ms: null, p99Ms: null, byKind: {} };
  for (const { stats: s } of sampled) {
    totals.requests += s.requests;
    totals.serverErrors += s.serverErrors;
    totals.clientErrors += s.clientErrors;
    totals.errorInjected += s.errorInjected;
    // Across sessions the worst p99 is what an SLO cares about; p50 is the median of medians.
    if (s.p99Ms !== null) totals.p99Ms = Math.max(totals.p99Ms ?? 0, s.p99Ms);
    for (const [k, n] of Object.entries(s.byKind)) totals.byKind[k] = (totals.byKind[k] ?? 0) + n;
  }
  const p50s = sampled.map((x) => x.stats.p50Ms).filter((x): x is number => x !== null).sort((a, b) => a - b);
  totals.p50Ms = p50s.length ? p50s[Math.floor(p50s.length / 2)] : null;
  return { active: runs.length, sampled, totals };
}

/** Prometheus text exposition (version 0.0.4). */
export function prometheus(org: string, s: OrgStats, extra: { cloneMinutes: number; refusals: number; runsTotal: number }): string {
  const l = `org="${org.replace(/["\\\n]/g, "_")}"`;
  const out: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, rows: [string, number | null][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) if (v !== null) out.push(`${name}{${[l, labels].filter(Boolean).join(",")}} ${v}`);
  };
  metric("molar_sessions_active", "gauge", "Active sessions (runs).", [["", s.active]]);
  metric("molar_runs_total", "counter", "Runs ever spawned by the org.", [["", extra.runsTotal]]);
  metric("molar_clone_minutes_total", "counter", "Clone-minutes consumed (run lifetime times its clones).", [["", extra.cloneMinutes]]);
  metric("molar_live_vendor_refusals_total", "counter", "Calls to live vendor hosts refused by the route proxy.", [["", extra.refusals]]);
  metric("molar_requests", "gauge", `Vendor requests in the request logs of the ${SAMPLE} newest active sessions.`, Object.entries(s.totals.byKind).map(([k, n]) => [`kind="${k}"`, n]));
  metric("molar_request_errors", "gauge", "Of those, answered 5xx (server) and 4xx (client).", [["class=\"server\"", s.totals.serverErrors], ["class=\"client\"", s.totals.clientErrors]]);
  metric("molar_requests_error_injected", "gauge", "Of those, failed by chaos rules.", [["", s.totals.errorInjected]]);
  metric("molar_request_duration_ms", "gauge", "Request duration: median session p50 and worst session p99.", [["quantile=\"0.5\"", s.totals.p50Ms], ["quantile=\"0.99\"", s.totals.p99Ms]]);
  return out.join("\n") + "\n";
}
