import type { Clock } from "./clock.ts";
import type { Ids } from "./rng.ts";
import type { Meta } from "./meta.ts";

export interface InboxEntry {
  kind: string;
  channel: "email" | "sms";
  to: string;
  from: string;
  subject?: string | null;
  text?: string | null;
  html?: string | null;
  code?: string | null;
  ref?: string | null;
}

export type InboxRow = {
  id: string;
  seq: number;
  kind: string;
  channel: string;
  to: string;
  from: string;
  subject: string | null;
  text: string | null;
  html: string | null;
  code: string | null;
  ref: string | null;
  created_at: number;
};

/** The run's shared inbox: every email and SMS any clone sends, with OTP codes where there is one. */
export class Inbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly ids: Ids,
    private readonly clock: Clock,
    private readonly meta: Meta,
  ) {}

  add(e: InboxEntry): string {
    const id = this.ids.make("inb_", 20);
    this.sql.exec(
      `INSERT INTO kernel_inbox (id, seq, kind, channel, "to", "from", subject, text, html, code, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id, this.meta.incr("seq.inbox"), e.kind, e.channel, e.to, e.from, e.subject ?? null, e.text ?? null, e.html ?? null, e.code ?? null, e.ref ?? null, this.clock.now(),
    );
    return id;
  }

  list(filter: { channel?: string | null; to?: string | null; limit?: number }): InboxRow[] {
    return this.sql
      .exec<InboxRow>(
        `SELECT * FROM kernel_inbox WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR lower("to") = lower(?2)) ORDER BY seq LIMIT ?3`,
        filter.channel ?? null,
        filter.to ?? null,
        filter.limit ?? 1000,
      )
      .toArray();
  }
}
