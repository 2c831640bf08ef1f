// One run's world: the kernel services wired to a Durable Object's SQLite, the vendor routers
// behind the platform's middleware (auth, quotas, body caps, chaos, transaction, log), the job
// drain that the clock and the alarm share, and snapshots.
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { HTTPException } from "hono/http-exception";
import { SnapshotCatalogue } from "./catalogue.ts";
export type { SnapshotInfo } from "./catalogue.ts";
import { KERNEL_MIGRATIONS, applyMigrations, schemaVersionOf, type MigrationSet } from "./migrate.ts";
import { VENDORS } from "../vendors/index.ts";
import { randomBase62 } from "../lib/crypto.ts";
import { readCapped } from "../lib/read-capped.ts";
import { Meta } from "./meta.ts";
import { Clock } from "./clock.ts";
import { Ids, Rng } from "./rng.ts";
import { Jobs, type JobRow } from "./jobs.ts";
import { Chaos } from "./chaos.ts";
import { DELIVER_JOB, Outbox, SVIX_RETRIES, isLiveVendorUrl, type DeliveryRow } from "./outbox.ts";
import { HTTPException as LiveVendorRefusal } from "hono/http-exception";
import { Inbox } from "./inbox.ts";
import { Idempotency } from "./idempotency.ts";
import { Blobs, Chunks, chunkRefsIn } from "./blobs.ts";
import { Endpoints } from "./endpoints.ts";
import { RequestLog } from "./log.ts";
import {
  BundleError, KERNEL_TABLES, decodeBundle, loadTables, type Bundle, type OwnedTable,
} from "./snapshots.ts";
import { Deferred, type JobHandler, type Kernel, type Kind, type VendorHono, type WorldIdentity } from "./types.ts";

/** Every migration set of a world: the kernel's, then each vendor's. */
const MIGRATION_SETS: [string, MigrationSet][] = [
  ["kernel", KERNEL_MIGRATIONS],
  ...Object.values(VENDORS).flatMap((v): [string, MigrationSet][] => (v.migrations ? [[v.kind, v.migrations]] : [])),
];
export const SCHEMA_VERSION: number = schemaVersionOf(MIGRATION_SETS);
const IDENTITY_KEY = "world";
/** Set once the world's tables exist: a new world gets them on first use, not at spawn. */
const SCHEMA_KEY = "schema";
const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** What is read of a webhook receiver's answer (nothing uses it) and of an app's answer (TwiML). */
const RECEIVER_ANSWER_CAP = 64 * 1024;
const APP_ANSWER_CAP = 1024 * 1024;
/** How long (run clock) an attempt in flight holds its delivery before a crash counts as a failure. */
const DELIVERY_LEASE_MS = 60_000;
/** Jobs an alarm runs before it lets requests in and re-arms: a backlog must not stall the world. */
const ALARM_BATCH = 200;
const SIZE_EVERY_MS = 1000;
/** Jobs due at one instant that run in one transaction. */
const JOB_BATCH = 256;
/** Deliveries due at one instant taken (and leased) together. */
const DELIVERY_BATCH = 512;
/** Of those, how many are in flight at once. */
const DELIVERY_CONCURRENCY = 32;

/** What one delivery attempt came to: sent (to record), refused, or nothing to do. */
interface Outcome {
  sent?: { d: DeliveryRow; status: number | null; error: string | null; durationMs: number };
  refused?: DeliveryRow;
  what?: string;
}

export interface Fired {
  at: string;
  kind: string;
  what: string;
}


/** Every table a snapshot carries, with its owner; the snapshot code knows no vendor's internals. */
export const SNAPSHOT_TABLES: OwnedTable[] = [
  ...KERNEL_TABLES.map((t) => ({ ...t, kind: "kernel" })),
  ...Object.values(VENDORS).flatMap((v) => v.tables.map((t) => ({ ...t, kind: v.kind }))),
];

const EMPTY = new Uint8Array(0);
/** The most a vendor request's body may be when the platform buffers it (streamed bodies aside). */
const BUFFER_CAP = 64 * 1024 * 1024;

export class World {
  readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>;
  identity: WorldIdentity | null = null;
  k!: Kernel;
  readonly log: RequestLog;
  private meta: Meta;
  private clock!: Clock;
  private jobs!: Jobs;
  private chaos!: Chaos;
  private outbox!: Outbox;
  private routers = new Map<Kind, VendorHono>();
  private handlers = new Map<string, JobHandler>();
  private queue: Promise<unknown> = Promise.resolve();
  private alarmAt: number | null = null;
  /** Vendors' in-memory views of their tables (Kernel.onReload). */
  private readonly reloaders = new Set<() => void>();
  private rpm = { windowStart: 0, count: 0 };
  // The database's size, read again at most every SIZE_EVERY_MS while under half the quota (the
  // read cost ~1.2% of a small write request) and on every write above it: far from its quota, a
  // run may overshoot it by at most what it writes in that time.
  private size = { bytes: 0, at: -Infinity };
  readonly snapshots: SnapshotCatalogue;

  constructor(
    readonly ctx: DurableObjectState,
    private readonly bucket: R2Bucket,
    private readonly deliveryTimeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
  ) {
    this.db = drizzle(ctx.storage, { logger: false }) as unknown as DrizzleSqliteDODatabase<Record<string, unknown>>;
    this.meta = new Meta(ctx.storage.sql);
    this.log = new RequestLog(ctx.storage.sql);
    this.snapshots = new SnapshotCatalogue({
      ctx,
      bucket,
      tables: SNAPSHOT_TABLES,
      schemaVersion: SCHEMA_VERSION,
      identity: () => this.identity!,
      clock: () => this.clock,
      serial: (fn) => this.serial(fn),
      load: (b) => this.loadBundle(b),
      publish: async () => (this.schemaReady ? this.k.chunks.publish() : 0),
      adopt: (b) => this.adoptChunks(b),
    });
  }

  private schemaReady = false;

  /** Loads an existing world (constructor, under blockConcurrencyWhile); a blank object stays blank. */
  async open(): Promise<void> {
    const id = this.ctx.storage.kv.get<WorldIdentity>(IDENTITY_KEY);
    if (!id) return;
    this.identity = id;
    this.schemaReady = false;
    this.alarmAt = null;
    // Past-due alarms are not replayed after a restart: re-arm from the jobs table.
    if (this.ctx.storage.kv.get(SCHEMA_KEY)) await this.ensureSchema();
    else this.armExpiry();
  }

  /**
   * Makes the world. Its tables are created on first use (or now, to load a branch's bundle):
   * creating them costs several milliseconds that a spawn should not wait for.
   */
  async create(identity: WorldIdentity, fromBundle: ArrayBuffer | null): Promise<void> {
    this.ctx.storage.kv.put(IDENTITY_KEY, identity);
    this.identity = identity;
    this.schemaReady = false;
    if (fromBundle) {
      await this.ensureSchema();
      await this.loadBundle(await decodeBundle(fromBundle, SCHEMA_VERSION, SNAPSHOT_TABLES));
    } else {
      this.armExpiry();
    }
  }

  private schemaPending: Promise<void> | null = null;

  /**
   * Creates or migrates the tables and wires the kernel, once, under blockConcurrencyWhile: two
   * first requests arriving together must not both migrate and rewire the kernel under each other.
   */
  ensureSchema(): Promise<void> {
    if (this.schemaReady || !this.identity) return Promise.resolve();
    this.schemaPending ??= this.ctx
      .blockConcurrencyWhile(async () => {
        if (this.schemaReady || !this.identity) return;
        this.tx(() => applyMigrations(this.ctx.storage.sql, MIGRATION_SETS));
        this.ctx.storage.kv.put(SCHEMA_KEY, SCHEMA_VERSION);
        this.wire(this.identity);
        this.schemaReady = true;
        this.rearm(true);
      })
      .finally(() => {
        this.schemaPending = null;
      });
    return this.schemaPending;
  }

  private armExpiry(): void {
    if (!this.identity || this.alarmAt === this.identity.expiresAt) return;
    this.alarmAt = this.identity.expiresAt;
    void this.ctx.storage.setAlarm(this.identity.expiresAt);
  }

  private wire(identity: WorldIdentity): void {
    this.identity = identity;
    this.reloaders.clear();
    const sql = this.ctx.storage.sql;
    this.clock = new Clock(this.meta);
    this.clock.load();
    const rng = new Rng(this.meta, identity.rngSeed);
    const ids = new Ids(rng);
    this.jobs = new Jobs(sql);
    this.chaos = new Chaos(sql, rng, ids, this.clock);
    this.outbox = new Outbox(sql, ids, this.clock, this.jobs, this.meta);
    this.k = {
      db: this.db,
      sql,
      clock: this.clock,
      ids,
      rng,
      jobs: this.jobs,
      chaos: this.chaos,
      outbox: this.outbox,
      inbox: new Inbox(sql, ids, this.clock, this.meta),
      idempotency: new Idempotency(sql, this.clock),
      blobs: new Blobs(sql),
      chunks: new Chunks(sql, this.bucket, () => this.identity!.worldId),
      endpoints: new Endpoints(sql, ids, this.clock),
      world: () => this.identity!,
      bucket: this.bucket,
      tx: <T>(fn: () => T): T => this.tx(fn),
      onReload: (drop) => this.reloaders.add(drop),
      fetchApp: (url, init) => {
        if (isLiveVendorUrl(url)) {
          this.tx(() => this.outbox.countRefused());
          throw new LiveVendorRefusal(502, { message: `refused: ${new URL(url).hostname} is a live vendor host; the clones never call one` });
        }
        return fetch(url, { ...init, redirect: "manual", signal: init?.signal ?? AbortSignal.timeout(this.deliveryTimeoutMs) }).then(async (res) => {
          // The app's answer (TwiML, say) is read here, capped: a hostile receiver cannot bloat the world.
          const body = res.body ? await readCapped(res.body, APP_ANSWER_CAP) : null;
          if (res.body && body === null) throw new Error(`the answer from ${new URL(url).host} is larger than ${APP_ANSWER_CAP} bytes`);
          return new Response(body, { status: res.status, headers: res.headers });
        });
      },
      advance: async (toMs) => {
        await this.advance(toMs);
      },
    };
    this.routers.clear();
    this.handlers.clear();
    for (const v of Object.values(VENDORS)) {
      for (const [type, h] of Object.entries(v.jobs(this.k))) this.handlers.set(type, h);
    }
  }

  /**
   * One SQLite transaction (nested ones are savepoints). Id counters drawn inside are written at
   * its end; those drawn before it are written first, so a nested rollback loses only its own.
   */
  tx<T>(fn: () => T): T {
    this.meta.flush();
    this.meta.deferring++;
    try {
      return this.ctx.storage.transactionSync(() => {
        const r = fn();
        this.meta.flush();
        return r;
      });
    } catch (err) {
      // Whatever was cached from the rolled-back writes is dropped (before wiring, only counters exist).
      if (this.schemaReady) this.reloadCaches();
      else this.meta.invalidate();
      throw err;
    } finally {
      this.meta.deferring--;
    }
  }

  /** In-memory views of tables, re-read after a rollback or a restore. */
  private reloadCaches(): void {
    this.meta.invalidate();
    for (const drop of this.reloaders) drop();
    this.clock.load();
    this.chaos.invalidate();
    this.k.endpoints.invalidate();
  }

  get alive(): boolean {
    return this.identity !== null && Date.now() < this.identity.expiresAt;
  }

  setExpiry(expiresAt: number): void {
    if (!this.identity) return;
    this.identity = { ...this.identity, expiresAt };
    this.ctx.storage.kv.put(IDENTITY_KEY, this.identity);
    if (this.schemaReady) this.rearm(true);
    else this.armExpiry();
  }

  /** Deletes the world: its tables, its alarm and its snapshot bundles. The object is blank after. */
  async destroy(): Promise<void> {
    if (this.identity) {
      // Everything under the world's prefix: snapshot bundles and world-only bytes of any vendor.
      const prefix = `worlds/${this.identity.worldId}/`;
      for (let cursor: string | undefined; ; ) {
        const page = await this.bucket.list({ prefix, cursor, limit: 1000 });
        if (page.objects.length) await this.bucket.delete(page.objects.map((o) => o.key));
        if (!page.truncated) break;
        cursor = page.cursor;
      }
    }
    this.log.closeAll();
    this.log.discard();
    this.meta.invalidate();
    this.identity = null;
    this.schemaReady = false;
    this.routers.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.alarmAt = null;
  }

  /** Runs `fn` after everything queued before it: drains, advances and restores never interleave. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private router(kind: Kind): VendorHono {
    let r = this.routers.get(kind);
    if (!r) {
      r = VENDORS[kind].router(this.k);
      // Errors must leave the router so the request's transaction rolls back.
      r.onError((err) => {
        throw err;
      });
      this.routers.set(kind, r);
    }
    return r;
  }

  /** How many method+path patterns the vendor's router serves (the explorers' coverage figure). */
  routeCount(kind: Kind): number {
    return new Set(this.router(kind).routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`)).size;
  }

  /** A vendor request, through the platform's middleware, in one transaction. */
  async vendor(kind: Kind, req: Request): Promise<Response> {
    const plugin = VENDORS[kind];
    const id = this.identity;
    const url = new URL(req.url);
    const missing = !req.headers.has("authorization") && !url.searchParams.has("X-Amz-Credential");
    if (!id || !this.alive || !id.credentials[kind]) {
      // Read what the client is still writing, or it gets a reset connection instead of the 401.
      if (req.body) await req.body.pipeTo(new WritableStream()).catch(() => undefined);
      return plugin.errors.unauthorized(missing);
    }
    await this.ensureSchema();
    const started = performance.now();
    let injected = false;
    let res: Response;
    const nowMs = Date.now();
    if (nowMs - this.rpm.windowStart >= 60_000) this.rpm = { windowStart: nowMs, count: 0 };
    if (!(await plugin.authenticate(req, id.credentials[kind]!, this.k, url))) {
      res = plugin.errors.unauthorized(missing);
    } else if (++this.rpm.count > id.quotas.requestsPerMinute) {
      res = plugin.errors.rateLimited(Math.max(1, Math.ceil((this.rpm.windowStart + 60_000 - nowMs) / 1000)), "Request quota of this run exceeded.");
    } else if (req.method !== "GET" && req.method !== "HEAD" && this.databaseSize(nowMs, id.quotas.storedBytes) > id.quotas.storedBytes) {
      res = plugin.errors.rateLimited(3600, "Stored bytes quota of this run exceeded.");
    } else {
      const streaming = plugin.streamBodies?.(req.method, url) ?? false;
      // A buffered body never exceeds BUFFER_CAP, whatever the vendor allows for streamed ones.
      const cap = Math.min(plugin.maxBodyBytes, BUFFER_CAP);
      const body = streaming ? EMPTY : await this.readBody(req, cap);
      if (body === "too-large") {
        res = plugin.errors.tooLarge(cap);
      } else {
        const chaos = this.chaos.intercept(kind, req.method, url.pathname);
        if (chaos?.latencyMs) await scheduler.wait(chaos.latencyMs);
        if (chaos?.fail) {
          injected = true;
          res = plugin.errors.injected(chaos.fail.status, chaos.fail.preset);
        } else {
          res = this.route(kind, req, url, body, streaming ? req.body : null);
          if (res instanceof Deferred) res = await this.afterCommit(kind, res);
          if (req.method === "HEAD") res = new Response(null, { status: res.status, headers: res.headers });
        }
      }
    }
    // An answer given without reading a streamed body (an error, chaos, a quota) still waits for
    // it: workerd holds the response back until the body is consumed, and the client is writing.
    if (req.body && !req.bodyUsed) await req.body.pipeTo(new WritableStream()).catch(() => undefined);
    const requestId = res.headers.get("request-id") ?? res.headers.get("x-request-id") ?? res.headers.get("x-amz-request-id") ?? `req_${randomBase62(14)}`;
    this.log.record(
      { kind, method: req.method, path: url.pathname, status: res.status, durationMs: Math.round((performance.now() - started) * 1000) / 1000, errorInjected: injected, requestId },
      this.clock.now(),
    );
    this.rearm();
    return res;
  }

  private databaseSize(nowMs: number, quota: number): number {
    if (nowMs - this.size.at >= SIZE_EVERY_MS || this.size.bytes > quota / 2) this.size = { bytes: this.ctx.storage.sql.databaseSize, at: nowMs };
    return this.size.bytes;
  }

  /**
   * Dispatches to the vendor's router synchronously. Hono answers synchronously only when exactly
   * one handler matches, so unmatched paths and HEAD (served by the GET route) are handled here.
   */
  private route(kind: Kind, req: Request, url: URL, body: Uint8Array, stream: ReadableStream<Uint8Array> | null): Response {
    const app = this.router(kind);
    const head = req.method === "HEAD";
    const r = head ? new Request(req.url, { method: "GET", headers: req.headers }) : req;
    const path = app.getPath(r);
    if (app.router.match(r.method, path)[0].length === 0) return VENDORS[kind].unmatched(req.method, path);
    return this.inTransaction(kind, () => app.fetch(r, { body, stream, method: req.method, url }));
  }

  /** Runs a handler's deferred part after its transaction committed; its errors render like any. */
  private async afterCommit(kind: Kind, d: Deferred): Promise<Response> {
    try {
      return await d.run();
    } catch (err) {
      this.reloadCaches();
      if (err instanceof HTTPException) return err.getResponse();
      console.error(`molar: unhandled error in ${kind} deferred work`, err instanceof Error ? err.stack : err);
      return VENDORS[kind].errors.internal();
    }
  }

  /**
   * Reads the body up to `cap` bytes before the transaction opens: handlers get it whole and
   * synchronously, never more than the cap, and a rollback never meets a half-read stream.
   */
  private async readBody(req: Request, cap: number): Promise<Uint8Array | "too-large"> {
    if (!req.body) return EMPTY;
    const declared = Number(req.headers.get("content-length") ?? NaN);
    if (declared > cap) return "too-large";
    // A declared length frames the body (HTTP/1.1), so it is read natively in one go: the
    // reader loop cost ~5% of a small request. Chunked bodies are counted as they come.
    if (declared >= 0) {
      const bytes = new Uint8Array(await req.arrayBuffer());
      return bytes.byteLength > cap ? "too-large" : bytes;
    }
    return (await readCapped(req.body, cap)) ?? "too-large";
  }

  /**
   * Runs `fn` in one synchronous SQLite transaction; a thrown error rolls everything back and
   * renders itself. Handlers must not await: workerd's async transaction costs ~0.4 ms a call.
   */
  inTransaction(kind: Kind | null, fn: () => Response | Promise<Response>): Response {
    try {
      return this.tx(() => {
        const r = fn();
        if (r instanceof Promise) {
          r.catch(() => undefined);
          throw new Error("A vendor handler returned a Promise: handlers must be synchronous to run in one transaction.");
        }
        return r;
      });
    } catch (err) {
      this.reloadCaches();
      if (err instanceof HTTPException) return err.getResponse();
      console.error(`molar: unhandled error in ${kind ?? "admin"} request`, err instanceof Error ? err.stack : err);
      return kind ? VENDORS[kind].errors.internal() : Response.json({ error: { type: "api_error", code: "internal", message: "Internal error." } }, { status: 500 });
    }
  }

  /** Keeps the one alarm on the earliest of: the next due job (in wall time) and the run's expiry. */
  rearm(force = false): void {
    if (!this.identity || !this.schemaReady) return;
    if (!force && !this.jobs.dirty) return;
    this.jobs.dirty = false;
    const e = this.jobs.earliest();
    let at = this.identity.expiresAt;
    if (e !== null) {
      const wall = e <= this.clock.now() ? Date.now() : this.clock.wallTimeOf(e);
      if (wall !== null) at = Math.min(at, wall);
    }
    // An alarm already due will fire; moving it to "now" again on every request is wasted work.
    const pendingNow = this.alarmAt !== null && this.alarmAt <= Date.now() && at <= Date.now();
    if (at !== this.alarmAt && !pendingNow) {
      this.alarmAt = at;
      void this.ctx.storage.setAlarm(at);
    }
  }

  async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.identity || !this.alive) return;
    if (!this.schemaReady) {
      this.armExpiry();
      return;
    }
    await this.serial(() => this.drain(this.clock.now(), [], ALARM_BATCH));
    this.rearm(true);
  }

  /** Advances the clock to `target`, firing everything due on the way, in time order. */
  advance(target: number): Promise<Fired[]> {
    return this.serial(async () => {
      const fired: Fired[] = [];
      await this.drain(target, fired);
      this.tx(() => this.clock.moveTo(target));
      this.rearm(true);
      return fired;
    });
  }

  /**
   * Runs every job due by `until`, in (due time, insertion) order. Jobs due at the same instant go
   * together: deliveries in parallel (up to DELIVERY_BATCH, each held by a lease job until its
   * outcome is recorded, so a crash retries it instead of losing it), other jobs in one
   * transaction (a handler that throws sends that run back to one job per transaction).
   */
  private async drain(until: number, fired: Fired[], maxJobs = Infinity): Promise<void> {
    for (let n = 0; n < maxJobs; ) {
      if (n > 0) await scheduler.wait(0);
      const head = this.jobs.peek(until);
      if (!head) break;
      this.clock.pin(head.due_at);
      try {
        if (head.type === DELIVER_JOB) n += await this.deliverRun(head, fired);
        else n += this.runRun(head, fired, Math.min(JOB_BATCH, maxJobs - n));
      } finally {
        this.clock.unpin();
      }
    }
  }

  /**
   * Deliveries due at one instant: taken and leased in one transaction, sent through a bounded pool
   * (connections stay alive between them), their outcomes recorded in one transaction.
   */
  private async deliverRun(head: JobRow, fired: Fired[]): Promise<number> {
    const { jobs, rows, leases } = this.tx(() => {
      const jobs = this.jobs.takeRun(head, DELIVER_JOB, DELIVERY_BATCH);
      const leaseAt = Math.max(head.due_at, this.clock.now()) + DELIVERY_LEASE_MS;
      const leases = this.jobs.scheduleMany(jobs.map((j) => ({ kind: j.kind, type: DELIVER_JOB, dueAt: leaseAt, ref: j.ref, payload: { lease: true } })));
      return { jobs, rows: this.outbox.getMany(jobs.map((j) => j.ref ?? "")), leases };
    });
    const outcomes: Outcome[] = new Array(jobs.length);
    let next = 0;
    // One watchdog for the batch rather than a timer per attempt: a clock step sends thousands,
    // and workerd allows 10,000 active timeouts (AbortSignal.timeout's cannot be cleared).
    const inflight = new Map<AbortController, number>();
    const watchdog = setInterval(() => {
      for (const [c, since] of inflight) {
        if (Date.now() - since >= this.deliveryTimeoutMs) c.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
      }
    }, 500);
    // A vendor that promises order (Stripe) sends one URL's messages one after another: each lane
    // is taken whole by one worker; every other message is a lane of its own.
    const lanes: number[][] = [];
    const laneOf = new Map<string, number[]>();
    jobs.forEach((j, i) => {
      const d = rows.get(j.ref ?? "");
      if (!d || !VENDORS[d.kind as Kind]?.orderedDeliveries) return void lanes.push([i]);
      let lane = laneOf.get(d.url);
      if (!lane) laneOf.set(d.url, (lane = [])), lanes.push(lane);
      lane.push(i);
    });
    const worker = async () => {
      for (let l = next++; l < lanes.length; l = next++) {
        for (const i of lanes[l]) {
          const abort = new AbortController();
          inflight.set(abort, Date.now());
          outcomes[i] = await this.attempt(rows.get(jobs[i].ref ?? ""), abort.signal).catch((err: unknown): Outcome => {
            console.error("molar: delivery failed", err instanceof Error ? err.stack : err);
            return { what: `${jobs[i].type} failed: ${String(err)}` };
          });
          inflight.delete(abort);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, lanes.length) }, worker));
    } finally {
      clearInterval(watchdog);
    }
    this.tx(() => {
      this.jobs.removeMany(leases.map((l) => l.id));
      const sent = outcomes.flatMap((o) => (o.sent ? [o.sent] : []));
      this.outbox.recordMany(sent, (d) => VENDORS[d.kind as Kind]?.retrySchedule ?? SVIX_RETRIES);
      for (const o of outcomes) if (o.refused) {
        this.outbox.countRefused();
        this.outbox.record(o.refused, { status: null, error: "refused: the clones never call a live vendor or a cloud metadata address", durationMs: 0 }, [], true);
      }
    });
    outcomes.forEach((o, i) => {
      if (o.what) fired.push({ at: this.clock.iso(jobs[i].due_at), kind: jobs[i].kind, what: o.what });
    });
    return jobs.length;
  }

  /** One webhook attempt, signed by its vendor at send time; the caller records it. */
  private async attempt(d: DeliveryRow | undefined, signal: AbortSignal): Promise<Outcome> {
    if (!d || d.status !== "pending") return {};
    if (isLiveVendorUrl(d.url)) return { refused: d, what: `webhook ${d.event} to ${d.url} refused (live vendor or metadata host)` };
    const plugin = VENDORS[d.kind as Kind];
    const headers: Record<string, string> = { "content-type": d.content_type, "user-agent": "Molar-Clones-Webhooks/1.0" };
    if (plugin?.sign) Object.assign(headers, await plugin.sign({ deliveryId: d.id, eventId: d.event_id, url: d.url, body: d.body, secret: d.secret, wallNowMs: Date.now() }));
    const t0 = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const r = await fetch(d.url, { method: "POST", headers, body: d.body, signal, redirect: "manual" });
      status = r.status;
      // Reading the (small) answer is far cheaper in workerd than cancelling its stream; past the cap
      // it is cancelled, so a receiver that answers gigabytes costs the world nothing. The watchdog
      // covers the body too: a receiver that never finishes is an error, not a stall.
      if (r.body) await readCapped(r.body, RECEIVER_ANSWER_CAP).catch(() => undefined);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    return { sent: { d, status, error, durationMs }, what: `webhook ${d.event} to ${d.url}: ${error ?? status}` };
  }

  /** Jobs due together run in one transaction; on a throw, the first runs alone and is dropped if it throws again. */
  private runRun(head: JobRow, fired: Fired[], limit: number): number {
    const done: Fired[] = [];
    try {
      const count = this.tx(() => {
        const run = this.jobs.takeRun(head, DELIVER_JOB, Math.max(1, limit));
        for (const j of run) {
          const what = this.runHandler(j);
          if (what) done.push({ at: this.clock.iso(j.due_at), kind: j.kind, what });
        }
        return run.length;
      });
      fired.push(...done);
      return count;
    } catch {
      this.reloadCaches();
    }
    const j = this.tx(() => this.jobs.takeRun(head, DELIVER_JOB, 1)[0]);
    if (!j) return 0;
    try {
      const what = this.tx(() => this.runHandler(j));
      if (what) fired.push({ at: this.clock.iso(j.due_at), kind: j.kind, what });
    } catch (err) {
      this.reloadCaches();
      console.error(`molar: job ${j.type} failed`, err instanceof Error ? err.stack : err);
      fired.push({ at: this.clock.iso(j.due_at), kind: j.kind, what: `${j.type} failed: ${String(err)}` });
    }
    return 1;
  }

  private runHandler(j: JobRow): string | void {
    const h = this.handlers.get(j.type);
    if (!h) return `${j.type}: no handler (dropped)`;
    const r = h(JSON.parse(j.payload), { id: j.id, dueAt: j.due_at, ref: j.ref });
    if ((r as unknown) instanceof Promise) throw new Error(`job handler ${j.type} returned a Promise: job handlers must be synchronous`);
    return r;
  }

  redeliver(id: string) {
    const d = this.tx(() => this.outbox.redeliver(id));
    this.rearm(true);
    return d;
  }

  /**
   * Copies into this world the large-body pieces a bundle names and it lacks (see Chunks.adopt),
   * before any table changes: a BundleError, with the world untouched, when they are gone.
   */
  private async adoptChunks(bundle: Bundle): Promise<void> {
    await this.ensureSchema();
    // Pieces are named in `segments` columns only (user text elsewhere may spell anything).
    const refs = new Map<string, Set<string>>();
    for (const t of bundle.tables.values()) {
      const col = t.columns.indexOf("segments");
      if (col < 0) continue;
      for (const row of t.rows) if (row.includes("chunk:")) chunkRefsIn(String((JSON.parse(row) as unknown[])[col] ?? ""), refs);
    }
    if (refs.size === 0) return;
    const missing = await this.k.chunks.adopt(refs, bundle.manifest.worldId ?? null);
    if (missing) throw new BundleError(`The bundle names ${missing} piece(s) of large object bodies that are no longer stored: they lived with a run that has been torn down.`);
  }

  private async loadBundle(bundle: Bundle): Promise<void> {
    await this.adoptChunks(bundle);
    this.tx(() => loadTables(this.ctx.storage.sql, SNAPSHOT_TABLES, bundle));
    this.reloadCaches();
    this.rearm(true);
  }

  get jobsView() {
    return this.jobs;
  }

  get chaosView() {
    return this.chaos;
  }

  get outboxView() {
    return this.outbox;
  }
}
