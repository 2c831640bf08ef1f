import type { Kernel } from "../../kernel/types.ts";
import type { emails } from "./schema.ts";

export type EmailRow = typeof emails.$inferSelect;

type EndpointRow = {
  id: string;
  url: string;
  events: string | null;
  secret: string;
};

/** Endpoints of `kind` subscribed to `type` (no list means every event). */
export function subscribers(k: Kernel, kind: string, type: string): EndpointRow[] {
  return k.sql
    .exec<EndpointRow>("SELECT id, url, events, secret FROM kernel_webhook_endpoints WHERE kind = ? AND status = 'enabled' ORDER BY created_at, id", kind)
    .toArray()
    .filter((e) => !e.events || (JSON.parse(e.events) as string[]).includes(type));
}

/** Queues one svix-signed message per subscribed endpoint; payloads follow Resend's webhook schemas. */
export function emitEmailEvent(k: Kernel, type: string, row: EmailRow, extra: Record<string, unknown> = {}): void {
  const targets = subscribers(k, "email", type);
  if (targets.length === 0) return;
  const tags = row.tags ? Object.fromEntries((JSON.parse(row.tags) as { name: string; value: string }[]).map((t) => [t.name, t.value])) : undefined;
  const headers = row.headers ? Object.entries(JSON.parse(row.headers) as Record<string, string>).map(([name, value]) => ({ name, value })) : undefined;
  const body = JSON.stringify({
    type,
    created_at: k.clock.iso(),
    data: {
      email_id: row.id,
      created_at: k.clock.iso(row.createdAt),
      from: row.from,
      to: JSON.parse(row.to),
      subject: row.subject,
      ...(tags ? { tags } : {}),
      ...(headers ? { headers } : {}),
      ...extra,
    },
  });
  for (const e of targets) {
    k.outbox.enqueue({ kind: "email", url: e.url, event: type, eventId: `msg_${k.ids.make("", 27)}`, body, secret: e.secret, endpointId: e.id });
  }
}
