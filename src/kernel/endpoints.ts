import type { Clock } from "./clock.ts";
import type { Ids } from "./rng.ts";

export interface Endpoint {
  id: string;
  kind: string;
  url: string;
  events: string[] | null;
  status: "enabled" | "disabled";
  secret: string;
  createdAt: number;
}

type Row = {
  id: string;
  kind: string;
  url: string;
  events: string | null;
  status: string;
  secret: string;
  created_at: number;
};

const toEndpoint = (r: Row): Endpoint => ({
  id: r.id,
  kind: r.kind,
  url: r.url,
  events: r.events ? JSON.parse(r.events) : null,
  status: r.status as Endpoint["status"],
  secret: r.secret,
  createdAt: r.created_at,
});

/** Svix-scheme secret: "whsec_" + base64 of 24 random bytes (never from the seeded generator). */
export function svixSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
}

/** Webhook endpoints of dashboard-configured vendors (email, auth), shared by the admin API and the vendors' own APIs. */
export class Endpoints {
  /** Enabled endpoints by kind: consulted on every event, changed rarely. */
  private enabledCache = new Map<string, Endpoint[]>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly ids: Ids,
    private readonly clock: Clock,
  ) {}

  invalidate(): void {
    this.enabledCache.clear();
  }

  /** Enabled endpoints of `kind` subscribed to `type` (no list means every event). */
  subscribers(kind: string, type: string): Endpoint[] {
    let all = this.enabledCache.get(kind);
    if (!all) {
      all = this.list(kind).filter((e) => e.status === "enabled").reverse();
      this.enabledCache.set(kind, all);
    }
    return all.filter((e) => !e.events || e.events.includes(type));
  }

  create(kind: string, url: string, events: string[] | null, id?: string): Endpoint {
    this.invalidate();
    const row: Row = { id: id ?? this.ids.make("ep_", 20), kind, url, events: events ? JSON.stringify(events) : null, status: "enabled", secret: svixSecret(), created_at: this.clock.now() };
    this.sql.exec(
      "INSERT INTO kernel_webhook_endpoints (id, kind, url, events, status, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      row.id, row.kind, row.url, row.events, row.status, row.secret, row.created_at,
    );
    return toEndpoint(row);
  }

  get(id: string, kind?: string): Endpoint | null {
    const r = this.sql.exec<Row>("SELECT * FROM kernel_webhook_endpoints WHERE id = ? AND (?2 IS NULL OR kind = ?2)", id, kind ?? null).toArray()[0];
    return r ? toEndpoint(r) : null;
  }

  list(kind?: string): Endpoint[] {
    return this.sql.exec<Row>("SELECT * FROM kernel_webhook_endpoints WHERE (?1 IS NULL OR kind = ?1) ORDER BY created_at DESC, id DESC", kind ?? null).toArray().map(toEndpoint);
  }

  update(id: string, patch: { url?: string; events?: string[]; status?: "enabled" | "disabled" }): void {
    this.invalidate();
    if (patch.url !== undefined) this.sql.exec("UPDATE kernel_webhook_endpoints SET url = ? WHERE id = ?", patch.url, id);
    if (patch.events !== undefined) this.sql.exec("UPDATE kernel_webhook_endpoints SET events = ? WHERE id = ?", JSON.stringify(patch.events), id);
    if (patch.status !== undefined) this.sql.exec("UPDATE kernel_webhook_endpoints SET status = ? WHERE id = ?", patch.status, id);
  }

  remove(id: string): boolean {
    this.invalidate();
    return this.sql.exec("DELETE FROM kernel_webhook_endpoints WHERE id = ?", id).rowsWritten > 0;
  }
}
