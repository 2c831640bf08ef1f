import { globMatch } from "../lib/glob.ts";
import type { Rng, Ids } from "./rng.ts";
import type { Clock } from "./clock.ts";

export interface ChaosRule {
  id: string;
  kind: string;
  method: string | null;
  path: string | null;
  status: number | null;
  latencyMs: number | null;
  rate: number;
  times: number | null;
  fired: number;
  preset: string | null;
  createdAt: string;
}

type Row = {
  id: string;
  kind: string;
  method: string | null;
  path: string | null;
  status: number | null;
  latency_ms: number | null;
  rate: number;
  times: number | null;
  fired: number;
  preset: string | null;
  created_at: number;
};

export interface Interception {
  latencyMs: number;
  fail: { status: number; preset: string | null } | null;
}

/**
 * Chaos rules of a world. HTTP rules (a status or a latency) are applied by the platform ahead of
 * the vendor routers; preset rules without a status are consulted by the vendor's domain
 * (`take`), e.g. "the next send bounces". Every draw comes from the run's seeded generator.
 */
export class Chaos {
  private rules: Row[] | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly rng: Rng,
    private readonly ids: Ids,
    private readonly clock: Clock,
  ) {}

  invalidate(): void {
    this.rules = null;
  }

  private all(): Row[] {
    if (!this.rules) this.rules = this.sql.exec<Row>("SELECT * FROM kernel_chaos_rules ORDER BY created_at, id").toArray();
    return this.rules;
  }

  list(): ChaosRule[] {
    return this.all().map(toRule);
  }

  add(r: Omit<ChaosRule, "id" | "fired" | "createdAt">): ChaosRule {
    const id = this.ids.make("rule_", 16);
    this.sql.exec(
      "INSERT INTO kernel_chaos_rules (id, kind, method, path, status, latency_ms, rate, times, fired, preset, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
      id, r.kind, r.method, r.path, r.status, r.latencyMs, r.rate, r.times, r.preset, this.clock.now(),
    );
    this.invalidate();
    return this.list().find((x) => x.id === id)!;
  }

  remove(id: string): boolean {
    const n = this.sql.exec("DELETE FROM kernel_chaos_rules WHERE id = ?", id).rowsWritten;
    this.invalidate();
    return n > 0;
  }

  /** Decides whether `rule` fires now, counting it when it does. */
  private fire(rule: Row): boolean {
    if (rule.times !== null && rule.fired >= rule.times) return false;
    if (rule.rate < 1 && this.rng.float(`chaos.${rule.id}`) >= rule.rate) return false;
    rule.fired++;
    this.sql.exec("UPDATE kernel_chaos_rules SET fired = fired + 1 WHERE id = ?", rule.id);
    return true;
  }

  /** HTTP-level rules matching a request: summed latency and the first failure that fires. */
  intercept(kind: string, method: string, path: string): Interception | null {
    let latencyMs = 0;
    let fail: Interception["fail"] = null;
    for (const rule of this.all()) {
      if (rule.kind !== kind || (rule.status === null && rule.latency_ms === null)) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.path && !globMatch(rule.path, path)) continue;
      if (rule.status !== null && fail) continue;
      if (!this.fire(rule)) continue;
      latencyMs += rule.latency_ms ?? 0;
      if (rule.status !== null) fail = { status: rule.status, preset: rule.preset };
    }
    return latencyMs > 0 || fail ? { latencyMs, fail } : null;
  }

  /** Whether a domain-level `preset` rule of `kind` could still fire: lets a domain skip the work of asking. */
  armed(kind: string, preset: string): boolean {
    return this.all().some((rule) => rule.kind === kind && rule.preset === preset && rule.status === null && (rule.times === null || rule.fired < rule.times));
  }

  /** A domain-level preset rule of `kind` that fires now, if any. */
  take(kind: string, preset: string, method?: string, path?: string): ChaosRule | null {
    for (const rule of this.all()) {
      if (rule.kind !== kind || rule.preset !== preset || rule.status !== null) continue;
      if (method && rule.method && rule.method.toUpperCase() !== method) continue;
      if (path && rule.path && !globMatch(rule.path, path)) continue;
      if (this.fire(rule)) return toRule(rule);
    }
    return null;
  }
}

function toRule(r: Row): ChaosRule {
  return {
    id: r.id,
    kind: r.kind,
    method: r.method,
    path: r.path,
    status: r.status,
    latencyMs: r.latency_ms,
    rate: r.rate,
    times: r.times,
    fired: r.fired,
    preset: r.preset,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
