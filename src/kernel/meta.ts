/** Key/value rows in kernel_meta: clock state and id counters, part of every snapshot. */
export class Meta {
  // Counters as last written or read. A small request draws several ids, and an upsert per draw
  // was ~10% of its CPU: inside a transaction (`deferring`) draws stay here and are written once,
  // at its end or before a nested one opens (World.tx). A rollback or a restore drops the cache;
  // a counter is never behind its row, so no id is ever drawn twice.
  private readonly counters = new Map<string, number>();
  private readonly dirty = new Set<string>();
  deferring = 0;

  constructor(private readonly sql: SqlStorage) {}

  get(key: string): string | null {
    if (this.dirty.has(key)) return String(this.counters.get(key));
    const row = this.sql.exec<{ value: string }>("SELECT value FROM kernel_meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  set(key: string, value: string): void {
    this.counters.delete(key);
    this.dirty.delete(key);
    this.sql.exec("INSERT INTO kernel_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** Bumps a counter and returns its new value. */
  incr(key: string, by = 1): number {
    const value = (this.counters.get(key) ?? Number(this.get(key) ?? 0)) + by;
    this.counters.set(key, value);
    if (this.deferring > 0) this.dirty.add(key);
    else this.write(key, value);
    return value;
  }

  /** Writes the counters drawn since the last flush. */
  flush(): void {
    if (this.dirty.size === 0) return;
    if (this.dirty.size === 1) {
      const [key] = this.dirty;
      this.write(key, this.counters.get(key)!);
    } else {
      // Bound values, not a JSON document: json_each parsed it again for every flush.
      const keys = [...this.dirty];
      this.sql.exec(
        `INSERT INTO kernel_meta (key, value) VALUES ${keys.map(() => "(?, ?)").join(", ")} ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        ...keys.flatMap((k) => [k, String(this.counters.get(k))]),
      );
    }
    this.dirty.clear();
  }

  /** Forgets every cached counter: after a rollback, a restore or a teardown, rows are the truth. */
  invalidate(): void {
    this.counters.clear();
    this.dirty.clear();
  }

  private write(key: string, value: number): void {
    this.sql.exec("INSERT INTO kernel_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, String(value));
  }
}
