// One org's control object: the registry of its runs, quotas on spawning, TTL expiry by alarm,
// the audit trail and usage metering. Vendor traffic never passes through here.
import { DurableObject } from "cloudflare:workers";
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { desc, eq } from "drizzle-orm";
import migrations from "../migrations/control/migrations.js";
import * as schema from "../src/control/schema.ts";
import type { AppEnv } from "../src/env.ts";
import { KINDS, type Kind, type Quotas, type Urls, type WorldIdentity } from "../src/kernel/types.ts";
import { VENDORS } from "../src/vendors/index.ts";
import { randomBase62, randomHex, sha256Hex } from "../src/lib/crypto.ts";
import { generateRsaKey, type RsaKey } from "../src/lib/rsa.ts";
import type { RunRecord } from "../src/control/run-json.ts";
import { Fleet } from "../src/control/fleet.ts";
import { Presets, portableRule } from "../src/control/presets.ts";
import { SEED_NAMES, SeedError, applySeed } from "../src/control/seeds.ts";

export const SEEDS = SEED_NAMES;
const MAX_TTL_SECONDS = 30 * 86_400;
/** RSA keys kept ready for the auth clone: generating one takes tens of milliseconds. */
const KEY_POOL_SIZE = 4;

/** Errors cross RPC as values: the Worker renders them in the API's shape. */
export interface ControlError {
  error: { status: number; code: string; message: string; retryAfter?: number };
}

export interface SpawnInput {
  runId?: unknown;
  seed?: unknown;
  ttlSeconds?: unknown;
  kinds?: unknown;
  metadata?: unknown;
  rngSeed?: unknown;
  fromSnapshot?: unknown;
}

const fail = (status: number, code: string, message: string, retryAfter?: number): ControlError => ({ error: { status, code, message, retryAfter } });

type Row = typeof schema.runs.$inferSelect;
type RawRow = {
  world_id: string; run_id: string; status: string; seed: string; kinds: string; metadata: string; clones: string;
  created_at: number; expires_at: number; ended_at: number | null; actor: string;
};
const fromRaw = (r: RawRow): Row => ({
  worldId: r.world_id, runId: r.run_id, status: r.status, seed: r.seed, kinds: r.kinds, metadata: r.metadata, clones: r.clones,
  createdAt: r.created_at, expiresAt: r.expires_at, endedAt: r.ended_at, actor: r.actor,
});

export class Control extends DurableObject<AppEnv> {
  private db: DrizzleSqliteDODatabase<typeof schema>;
  private readonly fleet: Fleet;
  private readonly presets: Presets;

  constructor(ctx: DurableObjectState, env: AppEnv) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema, logger: false });
    this.fleet = new Fleet(ctx.storage.sql);
    this.presets = new Presets(ctx.storage.sql, env.SNAPSHOTS, () => this.org());
    ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
    });
  }

  private record(r: Row, org: string): RunRecord {
    return {
      worldId: r.worldId, runId: r.runId, org, status: r.status as RunRecord["status"], seed: r.seed, kinds: JSON.parse(r.kinds),
      metadata: JSON.parse(r.metadata), credentials: JSON.parse(r.clones), createdAt: r.createdAt, expiresAt: r.expiresAt, endedAt: r.endedAt, actor: r.actor,
    };
  }

  private org(): string {
    return this.ctx.storage.kv.get<string>("org") ?? "default";
  }

  async spawn(input: SpawnInput, ctx: { org: string; actor: string; quotas: Quotas; urls: Urls }): Promise<RunRecord | ControlError> {
    if (!this.ctx.storage.kv.get("org")) this.ctx.storage.kv.put("org", ctx.org);
    await this.expireDue();
    const runId = input.runId ?? `run_${randomHex(8)}`;
    if (typeof runId !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(runId)) return fail(422, "invalid_run_id", "`runId` must match [A-Za-z0-9._-]{1,64}.");
    const seed = input.seed ?? "empty";
    // `org:<name>`: a preset this org saved from a run (its world, then its chaos rules).
    const preset = typeof seed === "string" && seed.startsWith("org:") ? this.presets.row(seed.slice(4)) : null;
    if (typeof seed !== "string" || (!SEEDS.includes(seed) && !preset)) {
      return fail(422, "unknown_seed", `\`seed\` must be one of: ${SEEDS.join(", ")}, or org:<name> for a preset of this org (GET /v1/presets).`);
    }
    const ttl = input.ttlSeconds ?? 3600;
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return fail(422, "invalid_ttl", `\`ttlSeconds\` must be an integer from 1 to ${MAX_TTL_SECONDS}.`);
    const kinds = input.kinds ?? (preset ? JSON.parse(preset.kinds) : [...KINDS]);
    if (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every((k) => (KINDS as readonly unknown[]).includes(k))) {
      return fail(422, "invalid_kinds", "`kinds` must be a non-empty subset of stripe, twilio, email, auth, s3.");
    }
    const metadata = input.metadata ?? {};
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata) || !Object.values(metadata).every((v) => typeof v === "string") || JSON.stringify(metadata).length > 8192) {
      return fail(422, "invalid_metadata", "`metadata` must be a map of strings (8 KB at most).");
    }
    if (input.rngSeed !== undefined && (typeof input.rngSeed !== "string" || input.rngSeed.length > 256)) return fail(422, "invalid_rng_seed", "`rngSeed` must be a string.");
    let branchKey: string | null = preset?.bundle_key ?? null;
    if (preset && input.fromSnapshot !== undefined) return fail(422, "invalid_from_snapshot", "A preset seed is a world already: give `seed: org:<name>` or `fromSnapshot`, not both.");
    if (input.fromSnapshot !== undefined) {
      const f = input.fromSnapshot as { runId?: unknown; snapshotId?: unknown } | null;
      if (!f || typeof f.runId !== "string" || typeof f.snapshotId !== "string") return fail(422, "invalid_from_snapshot", "`fromSnapshot` must be { runId, snapshotId }.");
      const src = this.active(f.runId);
      if (!src) return fail(404, "run_not_found", `No active run ${f.runId} to branch from.`);
      branchKey = await this.env.RUN.get(this.env.RUN.idFromName(src.worldId)).snapshotKey(f.snapshotId);
      if (!branchKey) return fail(404, "snapshot_not_found", `Run ${f.runId} has no snapshot ${f.snapshotId}.`);
    }
    const now = Date.now();
    if (this.active(runId)) return fail(409, "run_exists", `A run named ${runId} is already active.`);
    const live = this.sql.exec<{ n: number; first: number | null }>("SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM ctl_runs WHERE status = 'active'").one();
    if (live.n >= ctx.quotas.concurrentRuns) {
      return fail(429, "quota_concurrent_runs", `The org's limit of ${ctx.quotas.concurrentRuns} concurrent runs is reached.`, Math.max(1, Math.ceil(((live.first ?? now) - now) / 1000)));
    }
    const worldId = randomHex(16);
    const credentials: Partial<Record<Kind, Record<string, string>>> = {};
    for (const k of kinds as Kind[]) credentials[k] = await VENDORS[k].mintCredentials(worldId);
    const secrets: WorldIdentity["secrets"] = {};
    if (credentials.auth) {
      const key = await this.takeKey();
      credentials.auth.jwtKey = key.publicPem;
      secrets.auth = { privateJwk: key.privateJwk };
      this.ctx.waitUntil(this.refillKeys());
    }
    const rec: RunRecord = {
      worldId, runId, org: ctx.org, status: "active", seed, kinds: kinds as Kind[], metadata: metadata as Record<string, string>, credentials,
      createdAt: now, expiresAt: now + ttl * 1000, endedAt: null, actor: ctx.actor,
    };
    const identity: WorldIdentity = {
      runId, worldId, org: ctx.org, seed, rngSeed: (input.rngSeed as string | undefined) ?? runId, kinds: rec.kinds, createdAt: now, expiresAt: rec.expiresAt,
      credentials, secrets, urls: ctx.urls, quotas: ctx.quotas,
    };
    const world = this.env.RUN.get(this.env.RUN.idFromName(worldId));
    const created = await world.create(identity, branchKey);
    if (created !== true) return fail(422, "invalid_bundle", created);
    // A preset's chaos rules travel in its bundle (they are world state), so nothing is added here.
    if (seed !== "empty" && !preset) {
      try {
        await applySeed(seed, credentials, (kind, req) => world.vendor(kind, req));
      } catch (e) {
        await world.destroy();
        if (e instanceof SeedError) return fail(422, "seed_failed", e.message);
        throw e;
      }
    }
    this.sql.exec(
      "INSERT INTO ctl_runs (world_id, run_id, status, seed, kinds, metadata, clones, created_at, expires_at, ended_at, actor) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, NULL, ?)",
      worldId, runId, seed, JSON.stringify(kinds), JSON.stringify(metadata), JSON.stringify(credentials), now, rec.expiresAt, ctx.actor,
    );
    this.audit(ctx.actor, branchKey ? "branch" : "spawn", runId, branchKey ? JSON.stringify(input.fromSnapshot) : null);
    await this.rearm();
    return rec;
  }

  private async takeKey(): Promise<RsaKey> {
    const row = this.db.select().from(schema.keyPool).limit(1).get();
    if (!row) return generateRsaKey();
    this.db.delete(schema.keyPool).where(eq(schema.keyPool.id, row.id)).run();
    return { privateJwk: JSON.parse(row.privateJwk), publicPem: row.publicPem };
  }

  private refilling = false;
  private async refillKeys(): Promise<void> {
    if (this.refilling) return;
    this.refilling = true;
    try {
      while (this.db.select({ id: schema.keyPool.id }).from(schema.keyPool).all().length < KEY_POOL_SIZE) {
        const k = await generateRsaKey();
        this.db.insert(schema.keyPool).values({ privateJwk: JSON.stringify(k.privateJwk), publicPem: k.publicPem }).run();
      }
    } finally {
      this.refilling = false;
    }
  }

  // Hot paths (every spawn and admin call) use plain SQL: drizzle rebuilds each query's SQL per call.
  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private active(runId: string): Row | undefined {
    const r = this.sql.exec<RawRow>("SELECT * FROM ctl_runs WHERE run_id = ? AND status = 'active'", runId).toArray()[0];
    return r ? fromRaw(r) : undefined;
  }

  private audit(actor: string, action: string, runId: string, detail: string | null = null): void {
    this.sql.exec("INSERT INTO ctl_audit (at, actor, action, run_id, detail) VALUES (?, ?, ?, ?, ?)", Date.now(), actor, action, runId, detail);
  }

  async list(filter: { status?: string; kind?: string }): Promise<RunRecord[]> {
    await this.expireDue();
    const rows = this.db.select().from(schema.runs).where(filter.status ? eq(schema.runs.status, filter.status) : undefined).orderBy(desc(schema.runs.createdAt)).limit(1000).all();
    return rows.map((r) => this.record(r, this.org())).filter((r) => !filter.kind || r.kinds.includes(filter.kind as Kind));
  }

  /** The active run of that name, else its most recent ended one. */
  async get(runId: string): Promise<RunRecord | null> {
    await this.expireDue();
    const r = this.active(runId) ?? this.db.select().from(schema.runs).where(eq(schema.runs.runId, runId)).orderBy(desc(schema.runs.createdAt)).get();
    return r ? this.record(r, this.org()) : null;
  }

  /** The world of an active run, for admin calls made with the org key. */
  async resolve(runId: string): Promise<string | null> {
    await this.expireDue();
    return this.active(runId)?.worldId ?? null;
  }

  async extend(runId: string, ttlSeconds: unknown, actor: string): Promise<RunRecord | ControlError> {
    await this.expireDue();
    if (typeof ttlSeconds !== "number" || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
      return fail(422, "invalid_ttl", `\`ttlSeconds\` must be an integer from 1 to ${MAX_TTL_SECONDS}.`);
    }
    const r = this.active(runId);
    if (!r) return fail(404, "run_not_found", `No active run ${runId}.`);
    const expiresAt = Math.min(Math.max(r.expiresAt, Date.now()) + ttlSeconds * 1000, Date.now() + MAX_TTL_SECONDS * 1000);
    await this.env.RUN.get(this.env.RUN.idFromName(r.worldId)).setExpiry(expiresAt);
    this.db.update(schema.runs).set({ expiresAt }).where(eq(schema.runs.worldId, r.worldId)).run();
    this.audit(actor, "extend", runId, String(ttlSeconds));
    await this.rearm();
    return this.record({ ...r, expiresAt }, this.org());
  }

  async teardown(runId: string, actor: string): Promise<RunRecord | ControlError> {
    await this.expireDue();
    const r = this.active(runId);
    if (!r) return fail(404, "run_not_found", `No active run ${runId}.`);
    await this.end(r, "torn_down", actor);
    await this.rearm();
    return this.record({ ...r, status: "torn_down", endedAt: Date.now() }, this.org());
  }

  private async end(r: Row, status: "torn_down" | "expired", actor: string): Promise<void> {
    await this.env.RUN.get(this.env.RUN.idFromName(r.worldId)).destroy();
    this.db.update(schema.runs).set({ status, endedAt: Date.now() }).where(eq(schema.runs.worldId, r.worldId)).run();
    this.audit(actor, status === "expired" ? "expire" : "teardown", r.runId);
  }

  /** Tears down every run past its TTL; called by the alarm and, since local alarms can lapse, by every call. */
  private async expireDue(): Promise<void> {
    const due = this.sql.exec<RawRow>("SELECT * FROM ctl_runs WHERE status = 'active' AND expires_at <= ?", Date.now()).toArray();
    for (const r of due) await this.end(fromRaw(r), "expired", "ttl");
    if (due.length) await this.rearm();
  }

  private alarmAt: number | null | undefined = undefined;
  private async rearm(): Promise<void> {
    const expiry = this.sql.exec<{ e: number | null }>("SELECT MIN(expires_at) AS e FROM ctl_runs WHERE status = 'active'").one().e;
    const check = this.fleet.nextCheckAt();
    const next = expiry === null ? check : check === null ? expiry : Math.min(expiry, check);
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next !== null) await this.ctx.storage.setAlarm(next);
    else await this.ctx.storage.deleteAlarm();
  }

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    await this.expireDue();
    await this.fleet.check();
    await this.rearm();
  }

  /**
   * Wakes every active world (after a restart): an object re-arms its alarm when it opens, and
   * workerd does not replay alarms that fell due while it was down. Runs past their TTL end here.
   */
  async wake(): Promise<number> {
    await this.expireDue();
    const live = this.sql.exec<{ world_id: string }>("SELECT world_id FROM ctl_runs WHERE status = 'active'").toArray();
    await Promise.all(live.map((r) => this.env.RUN.get(this.env.RUN.idFromName(r.world_id)).wake()));
    await this.rearm();
    return live.length;
  }

  /** A live-vendor call blocked outside a world (by the route proxy): kept in the audit trail. */
  async recordRefusal(actor: string, host: string, why: string): Promise<number> {
    this.audit(actor, "refuse-live-vendor", "", `${host}: ${why}`.slice(0, 500));
    return this.refusals();
  }

  async refusals(): Promise<number> {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ctl_audit WHERE action = 'refuse-live-vendor'").one().n;
  }

  // ---- the org's own API keys: `mcko_<org hex>_<random>`, so a key names the object that knows it
  async keyCreate(input: { label?: unknown; scope?: unknown }, org: string) {
    const scope = input.scope ?? "admin";
    if (scope !== "admin" && scope !== "read") return fail(422, "invalid_scope", "`scope` is admin (everything) or read (GET calls only).");
    const label = typeof input.label === "string" && input.label.trim() ? input.label.trim().slice(0, 80) : "unnamed";
    const key = `mcko_${[...new TextEncoder().encode(org)].map((b) => b.toString(16).padStart(2, "0")).join("")}_${randomBase62(32)}`;
    const id = `key_${randomHex(8)}`;
    const hash = await sha256Hex(key);
    this.sql.exec("INSERT INTO ctl_api_keys (id, hash, prefix, label, scope, created_at) VALUES (?, ?, ?, ?, ?, ?)", id, hash, key.slice(0, 12) + "…" + key.slice(-4), label, scope, Date.now());
    this.audit("api", "key-create", "", `${id} ${label} (${scope})`);
    return { ...this.keyJson(id), key };
  }
  private keyJson(id: string) {
    const r = this.sql.exec<{ id: string; prefix: string; label: string; scope: string; created_at: number; last_used_at: number | null; revoked_at: number | null }>("SELECT * FROM ctl_api_keys WHERE id = ?", id).one();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return { id: r.id, prefix: r.prefix, label: r.label, scope: r.scope as "admin" | "read", createdAt: iso(r.created_at)!, lastUsedAt: iso(r.last_used_at), revokedAt: iso(r.revoked_at) };
  }
  async keyList() {
    return this.sql.exec<{ id: string }>("SELECT id FROM ctl_api_keys ORDER BY created_at DESC").toArray().map((r) => this.keyJson(r.id));
  }
  async keyRevoke(id: string) {
    const r = this.sql.exec("UPDATE ctl_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
    if (!r.rowsWritten) return fail(404, "key_not_found", `No live key ${id}.`);
    this.audit("api", "key-revoke", "", id);
    return this.keyJson(id);
  }
  /** The key's scope if it is live; its last use is kept to the minute (no write per request). */
  async keyCheck(hash: string): Promise<"admin" | "read" | null> {
    const r = this.sql.exec<{ id: string; scope: string; last_used_at: number | null }>("SELECT id, scope, last_used_at FROM ctl_api_keys WHERE hash = ? AND revoked_at IS NULL", hash).toArray()[0];
    if (!r) return null;
    if (!r.last_used_at || Date.now() - r.last_used_at > 60_000) this.sql.exec("UPDATE ctl_api_keys SET last_used_at = ? WHERE id = ?", Date.now(), r.id);
    return r.scope as "admin" | "read";
  }

  // ---- org presets (see src/control/presets.ts)
  async presetList() {
    return this.presets.list();
  }
  async presetGet(name: string) {
    return this.presets.get(name);
  }
  async presetExport(name: string) {
    return this.presets.exportJson(name);
  }
  async presetImport(doc: Record<string, unknown>) {
    const r = await this.presets.importJson(doc);
    if (!("error" in r)) this.audit("api", "preset-import", "", r.name);
    return r;
  }
  async presetDelete(name: string) {
    const r = await this.presets.remove(name);
    if (!("error" in r)) this.audit("api", "preset-delete", "", name);
    return r;
  }
  /** Saves a run's world (a snapshot taken now, or `snapshotId`) and its chaos rules as a preset. */
  async presetSave(input: { name?: unknown; runId?: unknown; snapshotId?: unknown; description?: unknown }, actor: string) {
    await this.expireDue();
    const r = typeof input.runId === "string" ? this.active(input.runId) : null;
    if (!r) return fail(404, "run_not_found", `No active run ${String(input.runId)} to save.`);
    const world = this.env.RUN.get(this.env.RUN.idFromName(r.worldId));
    const adminJson = async (method: string, path: string, body?: unknown) => {
      const res = await world.admin(new Request(`http://admin${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }), path);
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    let snapshotId = typeof input.snapshotId === "string" ? input.snapshotId : null;
    if (!snapshotId) {
      const made = await adminJson("POST", "/snapshots", { label: `preset ${String(input.name)}` });
      if (made.status !== 201) return fail(made.status, "snapshot_failed", made.json.error?.message ?? "The run could not be snapshotted.");
      snapshotId = made.json.id as string;
    }
    const key = await world.snapshotKey(snapshotId);
    if (!key) return fail(404, "snapshot_not_found", `Run ${r.runId} has no snapshot ${snapshotId}.`);
    const obj = await this.env.SNAPSHOTS.get(key);
    if (!obj) return fail(410, "bundle_gone", "The snapshot's bundle is gone.");
    const rules = ((await adminJson("GET", "/chaos/rules")).json.data ?? []) as Record<string, unknown>[];
    const saved = await this.presets.save({ name: input.name, description: input.description, kinds: JSON.parse(r.kinds), chaos: rules.map(portableRule), source: r.runId }, new Uint8Array(await obj.arrayBuffer()));
    if (!("error" in saved)) this.audit(actor, "preset-save", r.runId, saved.name);
    return saved;
  }

  // BYOC fleet endpoints and world snapshots across them (see src/control/fleet.ts).
  async fleetCreate(input: Record<string, unknown>) {
    const r = this.fleet.create(input);
    if (!("error" in r)) this.audit("api", "fleet-register", "", `${r.id} ${r.kind} ${r.apiUrl}`);
    await this.rearm();
    return r;
  }
  async fleetList(filter: { kind?: string; label?: string }) {
    return this.fleet.list(filter);
  }
  async fleetGet(id: string) {
    return this.fleet.get(id);
  }
  async fleetUpdate(id: string, input: Record<string, unknown>) {
    const r = this.fleet.update(id, input);
    await this.rearm();
    return r;
  }
  async fleetDelete(id: string) {
    const r = this.fleet.remove(id);
    if (!("error" in r)) this.audit("api", "fleet-remove", "", id);
    await this.rearm();
    return r;
  }
  async fleetCheck(id: string) {
    const got = this.fleet.get(id);
    if ("error" in got) return got;
    return (await this.fleet.check([id]))[0];
  }
  async worldSnapshot(input: { label?: unknown; endpoints?: unknown }) {
    return this.fleet.snapshotWorld(input);
  }
  async worldList() {
    return this.fleet.worlds();
  }
  async worldRestore(id: string) {
    return this.fleet.restoreWorld(id);
  }

  async auditTrail(limit = 100) {
    return this.db.select().from(schema.audit).orderBy(desc(schema.audit.id)).limit(limit).all()
      .map((a) => ({ at: new Date(a.at).toISOString(), actor: a.actor, action: a.action, runId: a.runId, detail: a.detail }));
  }

  /** Clone-minutes per UTC day and kind over the last `days` days, from each run's spawn to its end. */
  async usageDaily(days = 30) {
    await this.expireDue();
    const now = Date.now();
    const DAY = 86_400_000;
    const from = Math.floor(now / DAY) * DAY - (days - 1) * DAY;
    const table = new Map<number, Record<string, number>>();
    for (let d = from; d <= now; d += DAY) table.set(d, {});
    const rows = this.sql.exec<RawRow>("SELECT * FROM ctl_runs WHERE COALESCE(ended_at, ?1) >= ?2", now, from).toArray();
    for (const r of rows) {
      const end = r.ended_at ?? now;
      for (let d = Math.max(from, Math.floor(r.created_at / DAY) * DAY); d < end; d += DAY) {
        const minutes = (Math.min(end, d + DAY) - Math.max(r.created_at, d)) / 60_000;
        if (minutes <= 0) continue;
        const day = table.get(d)!;
        for (const k of JSON.parse(r.kinds) as string[]) day[k] = (day[k] ?? 0) + minutes;
      }
    }
    const round = (x: number) => Math.round(x * 100) / 100;
    return [...table].map(([d, byKind]) => ({
      day: new Date(d).toISOString().slice(0, 10),
      byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, round(v)])),
      total: round(Object.values(byKind).reduce((a, b) => a + b, 0)),
    }));
  }

  /** Clone-minutes: each run's lifetime so far (or until it ended) times the number of its clones. */
  async usage() {
    await this.expireDue();
    const now = Date.now();
    const rows = this.db.select().from(schema.runs).all();
    let cloneMinutes = 0;
    for (const r of rows) cloneMinutes += (((r.endedAt ?? now) - r.createdAt) / 60_000) * JSON.parse(r.kinds).length;
    return { org: this.org(), runs: rows.length, active: rows.filter((r) => r.status === "active").length, cloneMinutes: Math.round(cloneMinutes * 100) / 100 };
  }
}
