import type { Clock } from "./clock.ts";
import type { Ids } from "./rng.ts";
import { BULK_ROWS, type Jobs } from "./jobs.ts";
import type { Meta } from "./meta.ts";

import { isLiveVendorUrl } from "../lib/live-vendor.ts";

export { isLiveVendorUrl };
export const DELIVER_JOB = "kernel.deliver";

/** Svix's published schedule, the default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after failures. */
export const SVIX_RETRIES = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export interface Enqueue {
  kind: string;
  url: string;
  event: string;
  eventId: string;
  body: string;
  contentType?: string;
  secret: string;
  endpointId?: string | null;
  delayMs?: number;
}

export type DeliveryRow = {
  id: string;
  seq: number;
  kind: string;
  endpoint_id: string | null;
  url: string;
  event: string;
  event_id: string;
  body: string;
  content_type: string;
  secret: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
};

/**
 * Webhook messages waiting to land. Each attempt is a row in the jobs table, so retries follow
 * the run clock and a receiver that is down loses nothing: the message stays until it lands or
 * its schedule runs out, and can be redelivered by hand at any time.
 */
export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly ids: Ids,
    private readonly clock: Clock,
    private readonly jobs: Jobs,
    private readonly meta: Meta,
  ) {}

  enqueue(m: Enqueue): string {
    const id = this.ids.make("msg_", 24);
    const seq = this.meta.incr("seq.delivery");
    const due = this.clock.now() + (m.delayMs ?? 0);
    this.sql.exec(
      `INSERT INTO kernel_deliveries (id, seq, kind, endpoint_id, url, event, event_id, body, content_type, secret, status, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      id, seq, m.kind, m.endpointId ?? null, m.url, m.event, m.eventId, m.body, m.contentType ?? "application/json", m.secret, due, this.clock.now(),
    );
    this.jobs.schedule(m.kind, DELIVER_JOB, due, {}, id);
    return id;
  }

  /**
   * `enqueue` for many messages at once (a clock step that settles thousands of SMS): the same
   * rows, ids and jobs as one `enqueue` each, written by a few JSON-bound statements.
   */
  enqueueMany(ms: Enqueue[]): string[] {
    if (ms.length === 0) return [];
    const first = this.meta.incr("seq.delivery", ms.length) - ms.length + 1;
    const now = this.clock.now();
    const ids = this.ids.makeMany("msg_", ms.length, 24);
    const rows = ms.map((m, i) => [
      ids[i], first + i, m.kind, m.endpointId ?? null, m.url, m.event, m.eventId, m.body, m.contentType ?? "application/json", m.secret, now + (m.delayMs ?? 0),
    ] as const);
    for (let i = 0; i < rows.length; i += BULK_ROWS) {
      this.sql.exec(
        `INSERT INTO kernel_deliveries (id, seq, kind, endpoint_id, url, event, event_id, body, content_type, secret, status, attempts, next_attempt_at, created_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, 'pending', 0, value ->> 10, ?
         FROM json_each(?) ORDER BY key`,
        now,
        JSON.stringify(rows.slice(i, i + BULK_ROWS)),
      );
    }
    this.jobs.scheduleMany(rows.map((r) => ({ kind: r[2], type: DELIVER_JOB, dueAt: r[10], ref: r[0] })));
    return rows.map((r) => r[0]);
  }

  /** The rows of these ids that exist, by id. */
  getMany(ids: string[]): Map<string, DeliveryRow> {
    const out = new Map<string, DeliveryRow>();
    for (let i = 0; i < ids.length; i += BULK_ROWS) {
      for (const r of this.sql.exec<DeliveryRow>("SELECT * FROM kernel_deliveries WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids.slice(i, i + BULK_ROWS)))) out.set(r.id, r);
    }
    return out;
  }

  /** `record` for many attempts: successes in a few bulk statements, failures one by one (they schedule retries). */
  recordMany(outcomes: { d: DeliveryRow; status: number | null; error: string | null; durationMs: number }[], retries: (d: DeliveryRow) => number[]): void {
    const now = this.clock.now();
    const ok = outcomes.filter((o) => o.status !== null && o.status >= 200 && o.status < 300);
    for (const o of outcomes) if (!(o.status !== null && o.status >= 200 && o.status < 300)) this.record(o.d, o, retries(o.d));
    for (let i = 0; i < ok.length; i += BULK_ROWS) {
      const chunk = ok.slice(i, i + BULK_ROWS);
      this.sql.exec(
        "INSERT INTO kernel_delivery_attempts (delivery_id, at, status, error, duration_ms) SELECT value ->> 0, ?, value ->> 1, NULL, value ->> 2 FROM json_each(?) ORDER BY key",
        now,
        JSON.stringify(chunk.map((o) => [o.d.id, o.status, o.durationMs])),
      );
      // One statement per answer status (nearly always one): an id list the primary key serves.
      for (const status of new Set(chunk.map((o) => o.status))) {
        this.sql.exec(
          "UPDATE kernel_deliveries SET status = 'succeeded', attempts = attempts + 1, next_attempt_at = NULL, last_status = ?, last_error = NULL WHERE id IN (SELECT value FROM json_each(?))",
          status,
          JSON.stringify(chunk.filter((o) => o.status === status).map((o) => o.d.id)),
        );
      }
    }
  }

  /**
   * Queues, due now, one message per row of `select` (for bulk work whose messages SQL builds:
   * their bodies may be large), with the ids and sequence numbers `enqueue` would have given them
   * in `ord` order. Its columns: ord, kind, url, event, event_id, body, secret, endpoint_id; its
   * parameters are plain `?`. Answers how many.
   */
  enqueueSelect(select: string, ...params: unknown[]): number {
    const n = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM (${select})`, ...params).one().n;
    if (!n) return 0;
    const ids = this.ids.many("msg_", 24, n);
    const first = this.meta.incr("seq.delivery", n) - n + 1;
    const now = this.clock.now();
    this.sql.exec(
      `INSERT INTO kernel_deliveries (id, seq, kind, endpoint_id, url, event, event_id, body, content_type, secret, status, attempts, next_attempt_at, created_at)
       SELECT json_extract(?, '$[' || (q.rn - 1) || ']'), ? + q.rn - 1, q.kind, q.endpoint_id, q.url, q.event, q.event_id, q.body, 'application/json', q.secret, 'pending', 0, ?, ?
       FROM (SELECT ROW_NUMBER() OVER (ORDER BY ord) AS rn, * FROM (${select})) AS q ORDER BY q.rn`,
      JSON.stringify(ids), first, now, now, ...params,
    );
    this.sql.exec(
      `INSERT INTO kernel_jobs (due_at, kind, type, ref, payload) SELECT ?, kind, ?, id, '{}' FROM kernel_deliveries WHERE seq BETWEEN ? AND ? ORDER BY seq`,
      now, DELIVER_JOB, first, first + n - 1,
    );
    this.jobs.dirty = true;
    return n;
  }

  get(id: string): DeliveryRow | null {
    return this.sql.exec<DeliveryRow>("SELECT * FROM kernel_deliveries WHERE id = ?", id).toArray()[0] ?? null;
  }

  list(filter: { kind?: string; status?: string; limit?: number } = {}): DeliveryRow[] {
    return this.sql
      .exec<DeliveryRow>(
        "SELECT * FROM kernel_deliveries WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY seq LIMIT ?3",
        filter.kind ?? null,
        filter.status ?? null,
        filter.limit ?? 1000,
      )
      .toArray();
  }

  /** Records one attempt's outcome and schedules the next one from `retries` when it failed. */
  record(d: DeliveryRow, outcome: { status: number | null; error: string | null; durationMs: number }, retries: number[], permanent = false): void {
    const now = this.clock.now();
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    const attempts = d.attempts + 1;
    this.sql.exec(
      "INSERT INTO kernel_delivery_attempts (delivery_id, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?)",
      d.id, now, outcome.status, outcome.error, outcome.durationMs,
    );
    let status: DeliveryRow["status"] = "succeeded";
    let next: number | null = null;
    if (!ok) {
      const delay = permanent ? undefined : retries[attempts - 1];
      if (delay === undefined) status = "failed";
      else {
        status = "pending";
        next = now + delay;
        this.jobs.schedule(d.kind, DELIVER_JOB, next, {}, d.id);
      }
    }
    this.sql.exec(
      "UPDATE kernel_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ?",
      status, attempts, next, outcome.status, outcome.error, d.id,
    );
  }

  /** Sends a message again now, whatever became of it. */
  redeliver(id: string): DeliveryRow | null {
    const d = this.get(id);
    if (!d) return null;
    this.jobs.cancel(DELIVER_JOB, id);
    const now = this.clock.now();
    this.sql.exec("UPDATE kernel_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?", now, id);
    this.jobs.schedule(d.kind, DELIVER_JOB, now, { manual: true }, id);
    return this.get(id);
  }

  attemptsOf(id: string): { at: number; status: number | null; error: string | null; duration_ms: number }[] {
    return this.sql
      .exec<{ at: number; status: number | null; error: string | null; duration_ms: number }>(
        "SELECT at, status, error, duration_ms FROM kernel_delivery_attempts WHERE delivery_id = ? ORDER BY id",
        id,
      )
      .toArray();
  }

  countRefused(): number {
    return this.meta.incr("refused.live_vendor");
  }
}
