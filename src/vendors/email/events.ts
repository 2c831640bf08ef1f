import type { Kernel } from "../../kernel/types.ts";
import type { emails } from "./schema.ts";

export type EmailRow = typeof emails.$inferSelect;

/** Queues one svix-signed message per subscribed endpoint; payloads follow Resend's webhook schemas. */
export function emitEmailEvent(k: Kernel, type: string, row: EmailRow, extra: Record<string, unknown> = {}): void {
  const targets = k.endpoints.subscribers("email", type);
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
