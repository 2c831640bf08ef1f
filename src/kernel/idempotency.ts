import type { Clock } from "./clock.ts";

export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** Stored responses for vendors' Idempotency-Key replays; keys live 24 h on the run clock. */
export class Idempotency {
  static readonly TTL_MS = 86_400_000;

  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: Clock,
  ) {}

  find(kind: string, key: string): StoredResponse | null {
    const row = this.sql
      .exec<{ fingerprint: string; status: number; body: string; headers: string; created_at: number }>(
        "SELECT fingerprint, status, body, headers, created_at FROM kernel_idempotency WHERE kind = ? AND key = ?",
        kind,
        key,
      )
      .toArray()[0];
    if (!row || row.created_at + Idempotency.TTL_MS <= this.clock.now()) return null;
    return { fingerprint: row.fingerprint, status: row.status, body: row.body, headers: JSON.parse(row.headers) };
  }

  save(kind: string, key: string, r: StoredResponse): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO kernel_idempotency (kind, key, fingerprint, status, body, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      kind, key, r.fingerprint, r.status, r.body, JSON.stringify(r.headers), this.clock.now(),
    );
  }
}
