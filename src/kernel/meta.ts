/** Key/value rows in kernel_meta: clock state and id counters, part of every snapshot. */
export class Meta {
  constructor(private readonly sql: SqlStorage) {}

  get(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM kernel_meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  set(key: string, value: string): void {
    this.sql.exec("INSERT INTO kernel_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** Atomically bumps a counter and returns its new value. */
  incr(key: string, by = 1): number {
    const row = this.sql
      .exec<{ value: string }>(
        "INSERT INTO kernel_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + ? RETURNING value",
        key,
        String(by),
        by,
      )
      .one();
    return Number(row.value);
  }
}
