// BYOC fleets: long-lived clone endpoints an org registers (its own `serve --kind` instances, a
// shared fleet), health-checked on the control object's alarm, and world snapshots across them —
// one snapshot per endpoint, kept as a manifest and restored together with per-component results.
import { KINDS, type Kind } from "../kernel/types.ts";
import { isLiveVendorUrl } from "../lib/live-vendor.ts";
import { randomHex } from "../lib/crypto.ts";

export const CHECK_EVERY_MS = 60_000;
const CHECK_TIMEOUT_MS = 5_000;

export interface FleetError {
  error: { status: number; code: string; message: string };
}
const fail = (status: number, code: string, message: string): FleetError => ({ error: { status, code, message } });

type Raw = {
  id: string; kind: string; api_url: string; admin_url: string; admin_token: string; labels: string;
  created_at: number; checked_at: number | null; healthy: number | null; latency_ms: number | null; last_error: string | null;
};

export interface FleetEntry {
  id: string;
  kind: Kind;
  apiUrl: string;
  adminUrl: string;
  labels: Record<string, string>;
  createdAt: string;
  health: { status: "healthy" | "unhealthy" | "unknown"; checkedAt: string | null; latencyMs: number | null; lastError: string | null };
}

export interface WorldManifest {
  id: string;
  label: string | null;
  createdAt: string;
  refs: { endpointId: string; kind: Kind; snapshotId: string; sha256: string }[];
}

const show = (r: Raw): FleetEntry => ({
  id: r.id,
  kind: r.kind as Kind,
  apiUrl: r.api_url,
  adminUrl: r.admin_url,
  labels: JSON.parse(r.labels),
  createdAt: new Date(r.created_at).toISOString(),
  // The admin token is a secret: it goes out to the endpoint only, never back to a caller.
  health: {
    status: r.healthy === null ? "unknown" : r.healthy ? "healthy" : "unhealthy",
    checkedAt: r.checked_at === null ? null : new Date(r.checked_at).toISOString(),
    latencyMs: r.latency_ms,
    lastError: r.last_error,
  },
});

function url(name: string, v: unknown): string | FleetError {
  if (typeof v !== "string" || v.length > 2048) return fail(422, "invalid_url", `\`${name}\` must be an http(s) URL.`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return fail(422, "invalid_url", `\`${name}\` must be an http(s) URL.`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return fail(422, "invalid_url", `\`${name}\` must be an http(s) URL.`);
  if (isLiveVendorUrl(v)) return fail(422, "live_vendor_url", `\`${name}\` points at a live vendor or a cloud metadata host; register clone endpoints only.`);
  return v.replace(/\/$/, "");
}

function labels(v: unknown): Record<string, string> | FleetError {
  if (v === undefined) return {};
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail(422, "invalid_labels", "`labels` must be an object of strings.");
  const e = Object.entries(v as object);
  if (e.length > 20 || e.some(([k, x]) => typeof x !== "string" || k.length > 64 || x.length > 256)) return fail(422, "invalid_labels", "`labels`: at most 20 string values (keys up to 64 characters, values up to 256).");
  return Object.fromEntries(e);
}

const isErr = (x: unknown): x is FleetError => !!x && typeof x === "object" && "error" in x;

export class Fleet {
  private readonly sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  private row(id: string): Raw | null {
    return this.sql.exec<Raw>("SELECT * FROM ctl_fleet WHERE id = ?", id).toArray()[0] ?? null;
  }

  create(input: Record<string, unknown>): FleetEntry | FleetError {
    if (!KINDS.includes(input.kind as Kind)) return fail(422, "invalid_kind", `\`kind\` must be one of ${KINDS.join(", ")}.`);
    const api = url("apiUrl", input.apiUrl);
    if (isErr(api)) return api;
    const admin = url("adminUrl", input.adminUrl);
    if (isErr(admin)) return admin;
    if (typeof input.adminToken !== "string" || input.adminToken.length < 1 || input.adminToken.length > 4096) return fail(422, "invalid_admin_token", "`adminToken` (the endpoint's admin bearer token) is required.");
    const l = labels(input.labels);
    if (isErr(l)) return l;
    const id = `fl_${randomHex(8)}`;
    this.sql.exec(
      "INSERT INTO ctl_fleet (id, kind, api_url, admin_url, admin_token, labels, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      id, input.kind as string, api, admin, input.adminToken, JSON.stringify(l), Date.now(),
    );
    return show(this.row(id)!);
  }

  list(filter: { kind?: string; label?: string }): FleetEntry[] {
    const [lk, lv] = filter.label ? [filter.label.split("=")[0], filter.label.split("=").slice(1).join("=")] : [null, null];
    return this.sql.exec<Raw>("SELECT * FROM ctl_fleet WHERE (?1 IS NULL OR kind = ?1) ORDER BY created_at DESC, id", filter.kind ?? null).toArray()
      .map(show)
      .filter((e) => lk === null || e.labels[lk] === lv);
  }

  get(id: string): FleetEntry | FleetError {
    const r = this.row(id);
    return r ? show(r) : fail(404, "endpoint_not_found", `No fleet endpoint ${id}.`);
  }

  update(id: string, input: Record<string, unknown>): FleetEntry | FleetError {
    const r = this.row(id);
    if (!r) return fail(404, "endpoint_not_found", `No fleet endpoint ${id}.`);
    const next = { ...r };
    if (input.apiUrl !== undefined) {
      const v = url("apiUrl", input.apiUrl);
      if (isErr(v)) return v;
      next.api_url = v;
    }
    if (input.adminUrl !== undefined) {
      const v = url("adminUrl", input.adminUrl);
      if (isErr(v)) return v;
      next.admin_url = v;
    }
    if (input.adminToken !== undefined) {
      if (typeof input.adminToken !== "string" || !input.adminToken) return fail(422, "invalid_admin_token", "`adminToken` must be a non-empty string.");
      next.admin_token = input.adminToken;
    }
    if (input.labels !== undefined) {
      const l = labels(input.labels);
      if (isErr(l)) return l;
      next.labels = JSON.stringify(l);
    }
    this.sql.exec("UPDATE ctl_fleet SET api_url = ?, admin_url = ?, admin_token = ?, labels = ?, checked_at = NULL, healthy = NULL WHERE id = ?", next.api_url, next.admin_url, next.admin_token, next.labels, id);
    return show(this.row(id)!);
  }

  remove(id: string): { id: string; deleted: true } | FleetError {
    if (!this.row(id)) return fail(404, "endpoint_not_found", `No fleet endpoint ${id}.`);
    this.sql.exec("DELETE FROM ctl_fleet WHERE id = ?", id);
    return { id, deleted: true };
  }

  /** When the next health check falls due (null with no endpoints). */
  nextCheckAt(): number | null {
    const r = this.sql.exec<{ n: number; oldest: number | null; unchecked: number }>(
      "SELECT count(*) AS n, MIN(checked_at) AS oldest, SUM(checked_at IS NULL) AS unchecked FROM ctl_fleet",
    ).one();
    if (!r.n) return null;
    return r.unchecked ? Date.now() : r.oldest! + CHECK_EVERY_MS;
  }

  /** Checks `ids` (or every endpoint due): the admin API answers its clock, the vendor API answers at all. */
  async check(ids?: string[]): Promise<FleetEntry[]> {
    const rows = ids
      ? ids.map((id) => this.row(id)).filter((r): r is Raw => r !== null)
      : this.sql.exec<Raw>("SELECT * FROM ctl_fleet WHERE checked_at IS NULL OR checked_at <= ?", Date.now() - CHECK_EVERY_MS + 1000).toArray();
    await Promise.all(
      rows.map(async (r) => {
        const t0 = Date.now();
        let error: string | null = null;
        try {
          const admin = await fetch(`${r.admin_url}/clock`, { headers: { authorization: `Bearer ${r.admin_token}` }, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS), redirect: "manual" });
          await admin.body?.cancel();
          if (admin.status !== 200) error = `admin API answered ${admin.status} to GET /clock`;
          const api = await fetch(r.api_url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS), redirect: "manual" });
          await api.body?.cancel();
          if (!error && api.status >= 500) error = `vendor API answered ${api.status}`;
        } catch (e) {
          error = `unreachable: ${(e as Error).message}`;
        }
        this.sql.exec("UPDATE ctl_fleet SET checked_at = ?, healthy = ?, latency_ms = ?, last_error = ? WHERE id = ?", Date.now(), error ? 0 : 1, Date.now() - t0, error, r.id);
      }),
    );
    return rows.map((r) => show(this.row(r.id) ?? r));
  }

  /** Snapshots every endpoint (or `ids`) and keeps the manifest; any failure fails the whole. */
  async snapshotWorld(input: { label?: unknown; endpoints?: unknown }): Promise<WorldManifest | FleetError> {
    const label = typeof input.label === "string" ? input.label.slice(0, 200) : null;
    const ids = Array.isArray(input.endpoints) ? input.endpoints.filter((x): x is string => typeof x === "string") : null;
    const rows = ids ? ids.map((id) => this.row(id)) : this.sql.exec<Raw>("SELECT * FROM ctl_fleet ORDER BY created_at, id").toArray();
    if (rows.some((r) => r === null)) return fail(404, "endpoint_not_found", "`endpoints` names an endpoint that is not registered.");
    if (!rows.length) return fail(422, "no_endpoints", "Register fleet endpoints first (POST /v1/fleet).");
    const refs: WorldManifest["refs"] = [];
    for (const r of rows as Raw[]) {
      try {
        const res = await fetch(`${r.admin_url}/snapshots`, {
          method: "POST",
          headers: { authorization: `Bearer ${r.admin_token}`, "content-type": "application/json" },
          body: JSON.stringify({ label: label ?? "world" }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json().catch(() => null)) as { id?: string; sha256?: string } | null;
        if (res.status !== 201 && res.status !== 200) return fail(502, "component_failed", `${r.id} (${r.kind}) answered ${res.status} to POST /snapshots.`);
        refs.push({ endpointId: r.id, kind: r.kind as Kind, snapshotId: body!.id!, sha256: body!.sha256 ?? "" });
      } catch (e) {
        return fail(502, "component_failed", `${r.id} (${r.kind}) is unreachable: ${(e as Error).message}`);
      }
    }
    const m: WorldManifest = { id: `world_${randomHex(8)}`, label, createdAt: new Date().toISOString(), refs };
    this.sql.exec("INSERT INTO ctl_worlds (id, label, created_at, refs) VALUES (?, ?, ?, ?)", m.id, label, Date.parse(m.createdAt), JSON.stringify(refs));
    return m;
  }

  worlds(): WorldManifest[] {
    return this.sql.exec<{ id: string; label: string | null; created_at: number; refs: string }>("SELECT * FROM ctl_worlds ORDER BY created_at DESC, id").toArray()
      .map((w) => ({ id: w.id, label: w.label, createdAt: new Date(w.created_at).toISOString(), refs: JSON.parse(w.refs) }));
  }

  /** Restores each component; answers what became of each, so a partial restore is visible. */
  async restoreWorld(id: string) {
    const w = this.worlds().find((x) => x.id === id);
    if (!w) return fail(404, "world_not_found", `No world snapshot ${id}.`);
    const components = [];
    for (const ref of w.refs) {
      const r = this.row(ref.endpointId);
      if (!r) {
        components.push({ ...ref, status: "failed" as const, error: "endpoint no longer registered" });
        continue;
      }
      try {
        const res = await fetch(`${r.admin_url}/snapshots/${encodeURIComponent(ref.snapshotId)}/restore`, { method: "POST", headers: { authorization: `Bearer ${r.admin_token}` }, signal: AbortSignal.timeout(30_000) });
        await res.body?.cancel();
        components.push(res.ok ? { ...ref, status: "restored" as const } : { ...ref, status: "failed" as const, error: `answered ${res.status}` });
      } catch (e) {
        components.push({ ...ref, status: "failed" as const, error: `unreachable: ${(e as Error).message}` });
      }
    }
    return { id, restored: components.every((c) => c.status === "restored"), components };
  }
}
