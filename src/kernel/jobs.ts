export type JobRow = {
  id: number;
  due_at: number;
  kind: string;
  type: string;
  ref: string | null;
  payload: string;
};

/** Rows per bulk statement: keeps each JSON-bound value far below SQLite's per-value limit. */
export const BULK_ROWS = 500;

/** The single table of scheduled work of a world. The alarm follows `earliest()`. */
export class Jobs {
  /** Set when the table changed, so the world re-arms its alarm once per request. */
  dirty = false;

  constructor(private readonly sql: SqlStorage) {}

  schedule(kind: string, type: string, dueAt: number, payload: Record<string, unknown> = {}, ref: string | null = null): number {
    this.dirty = true;
    return this.sql
      .exec<{ id: number }>(
        "INSERT INTO kernel_jobs (due_at, kind, type, ref, payload) VALUES (?, ?, ?, ?, ?) RETURNING id",
        Math.floor(dueAt),
        kind,
        type,
        ref,
        JSON.stringify(payload),
      )
      .one().id;
  }

  /**
   * Schedules many jobs in one statement per few hundred (JSON-bound, so the 100-parameter limit
   * of a statement does not apply); answers each new job's id and ref, in the order given.
   */
  scheduleMany(jobs: { kind: string; type: string; dueAt: number; ref: string | null; payload?: Record<string, unknown> }[]): { id: number; ref: string | null }[] {
    if (jobs.length === 0) return [];
    this.dirty = true;
    const out: { id: number; ref: string | null }[] = [];
    for (let i = 0; i < jobs.length; i += BULK_ROWS) {
      const chunk = jobs.slice(i, i + BULK_ROWS).map((j) => [Math.floor(j.dueAt), j.kind, j.type, j.ref, JSON.stringify(j.payload ?? {})]);
      const rows = this.sql
        .exec<{ id: number; ref: string | null }>(
          "INSERT INTO kernel_jobs (due_at, kind, type, ref, payload) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?) ORDER BY key RETURNING id, ref",
          JSON.stringify(chunk),
        )
        .toArray()
        .sort((a, b) => a.id - b.id);
      out.push(...rows);
    }
    return out;
  }

  /** Is a job of `type` with this ref scheduled? */
  has(type: string, ref: string): boolean {
    return this.sql.exec("SELECT 1 FROM kernel_jobs WHERE ref = ? AND type = ? LIMIT 1", ref, type).toArray().length > 0;
  }

  /** Removes the jobs of these ids (leases whose outcome is recorded). */
  removeMany(ids: number[]): void {
    if (ids.length === 0) return;
    this.dirty = true;
    for (let i = 0; i < ids.length; i += BULK_ROWS) this.sql.exec("DELETE FROM kernel_jobs WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids.slice(i, i + BULK_ROWS)));
  }

  /** Cancels every job of `type` whose ref is `ref`; answers how many. */
  cancel(type: string, ref: string): number {
    this.dirty = true;
    return this.sql.exec("DELETE FROM kernel_jobs WHERE type = ? AND ref = ?", type, ref).rowsWritten;
  }

  reschedule(type: string, ref: string, dueAt: number): number {
    this.dirty = true;
    return this.sql.exec("UPDATE kernel_jobs SET due_at = ? WHERE type = ? AND ref = ?", Math.floor(dueAt), type, ref).rowsWritten;
  }

  remove(id: number): void {
    this.dirty = true;
    this.sql.exec("DELETE FROM kernel_jobs WHERE id = ?", id);
  }

  earliest(): number | null {
    const row = this.sql.exec<{ d: number | null }>("SELECT MIN(due_at) AS d FROM kernel_jobs").one();
    return row.d;
  }

  /** Removes and returns the next job due at or before `until`, in (due time, insertion) order. */
  take(until: number): JobRow | null {
    const row = this.sql
      .exec<JobRow>(
        "DELETE FROM kernel_jobs WHERE id = (SELECT id FROM kernel_jobs WHERE due_at <= ? ORDER BY due_at, id LIMIT 1) RETURNING *",
        until,
      )
      .toArray()[0];
    if (row) this.dirty = true;
    return row ?? null;
  }

  /** The next job due at or before `until`, left in place. */
  peek(until: number): JobRow | null {
    return this.sql.exec<JobRow>("SELECT * FROM kernel_jobs WHERE due_at <= ? ORDER BY due_at, id LIMIT 1", until).toArray()[0] ?? null;
  }

  /**
   * Removes and returns the run of jobs that follow `head` in order and share its due time and its
   * class (deliveries, or everything else), `head` included, at most `limit`: work that may go
   * together without changing the order anything happens in.
   */
  takeRun(head: JobRow, deliveryType: string, limit: number): JobRow[] {
    const delivery = head.type === deliveryType;
    const boundary = this.sql
      .exec<{ b: number | null }>(
        `SELECT MIN(id) AS b FROM kernel_jobs WHERE due_at = ? AND id > ? AND type ${delivery ? "<>" : "="} ?`,
        head.due_at, head.id, deliveryType,
      )
      .one().b;
    const rows = this.sql
      .exec<JobRow>(
        `DELETE FROM kernel_jobs WHERE id IN (SELECT id FROM kernel_jobs WHERE due_at = ? AND id >= ? AND id < ? AND type ${delivery ? "=" : "<>"} ? ORDER BY id LIMIT ?) RETURNING *`,
        head.due_at, head.id, boundary ?? Number.MAX_SAFE_INTEGER, deliveryType, limit,
      )
      .toArray()
      .sort((a, b) => a.id - b.id);
    if (rows.length) this.dirty = true;
    return rows;
  }

  pending(limit = 20): JobRow[] {
    return this.sql.exec<JobRow>("SELECT * FROM kernel_jobs ORDER BY due_at, id LIMIT ?", limit).toArray();
  }
}
