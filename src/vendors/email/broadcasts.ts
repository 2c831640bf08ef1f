// Broadcasts of the email clone (Resend): a message to a segment's subscribed contacts, kept as a
// draft, scheduled on the run clock, or sent at once. Sending makes one email per contact through
// the ordinary send path (the inbox, delivery on the clock, webhooks), each personalised:
// `{{{FIRST_NAME|fallback}}}`, `{{{LAST_NAME}}}`, `{{{EMAIL}}}`, `{{{RESEND_UNSUBSCRIBE_URL}}}`.
import type { Kernel } from "../../kernel/types.ts";
import { ResendError, invalid, missingField, notFound } from "./errors.ts";
import { addressOf, parseWhen, resendTime } from "./format.ts";
import { createEmail, page, validateEmail } from "./domain.ts";

type Body = Record<string, unknown>;
interface Content { name: string | null; segment_id: string; from: string; subject: string; reply_to: string[] | null; preview_text: string | null; html: string | null; text: string | null }
type Row = { id: string; seq: number; data: string; status: string; created_at: number; scheduled_at: number | null; sent_at: number | null };

export const BROADCAST_SEND = "email.broadcast_send";
const MAX_SCHEDULE_MS = 30 * 86_400_000;

function rowOf(k: Kernel, id: string): Row {
  const r = k.sql.exec<Row>("SELECT * FROM email_broadcasts WHERE id = ?", id).toArray()[0];
  if (!r) throw notFound("Broadcast");
  return r;
}

function segmentOf(k: Kernel, id: unknown): string {
  if (typeof id !== "string" || id === "") throw missingField("segment_id");
  if (!k.sql.exec("SELECT 1 FROM email_segments WHERE id = ?", id).toArray().length) throw notFound("Segment");
  return id;
}

const text = (b: Body, field: string, prior: string | null): string | null => {
  const v = b[field];
  if (v === undefined) return prior;
  if (v !== null && typeof v !== "string") throw invalid(`Invalid \`${field}\` field. It must be a string.`);
  return v as string | null;
};

function contentOf(k: Kernel, b: Body, prior: Content | null): Content {
  if (b.topic_id !== undefined && b.topic_id !== null) throw new ResendError(501, "not_implemented", "Broadcasts scoped to a topic are not implemented by the email clone yet.");
  const from = text(b, "from", prior?.from ?? null);
  if (!from) throw missingField("from");
  if (!addressOf(from)) throw new ResendError(422, "invalid_from_address", "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.");
  const subject = text(b, "subject", prior?.subject ?? null);
  if (!subject) throw missingField("subject");
  const segment = b.segment_id ?? b.audience_id;
  let replyTo = prior?.reply_to ?? null;
  if (b.reply_to !== undefined) {
    const list = b.reply_to === null ? null : typeof b.reply_to === "string" ? [b.reply_to] : b.reply_to;
    if (list !== null && (!Array.isArray(list) || !list.every((a) => typeof a === "string" && addressOf(a)))) throw invalid("Invalid `reply_to` field. It must be a list of email addresses.");
    replyTo = list as string[] | null;
  }
  return {
    name: text(b, "name", prior?.name ?? null),
    segment_id: segment === undefined && prior ? prior.segment_id : segmentOf(k, segment),
    from,
    subject,
    reply_to: replyTo,
    preview_text: text(b, "preview_text", prior?.preview_text ?? null),
    html: text(b, "html", prior?.html ?? null),
    text: text(b, "text", prior?.text ?? null),
  };
}

function when(k: Kernel, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const at = typeof v === "string" ? parseWhen(v, k.clock.now()) : null;
  if (at === null) throw invalid("Invalid `scheduled_at` field. Use an ISO 8601 date or natural language such as `in 1 min`.");
  if (at > k.clock.now() + MAX_SCHEDULE_MS) throw invalid("Invalid `scheduled_at` field. Broadcasts can be scheduled up to 30 days in advance.");
  return at <= k.clock.now() ? null : at;
}

export function createBroadcast(k: Kernel, b: Body) {
  const c = contentOf(k, b, null);
  if (b.scheduled_at !== undefined && b.send !== true) throw invalid("`scheduled_at` can only be used when `send` is true.");
  const id = k.ids.uuid("broadcast");
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM email_broadcasts").one().v);
  k.sql.exec("INSERT INTO email_broadcasts (id, seq, data, status, created_at) VALUES (?, ?, ?, 'draft', ?)", id, seq, JSON.stringify(c), k.clock.now());
  if (b.send === true) sendBroadcast(k, id, { scheduled_at: b.scheduled_at });
  return { id, object: "broadcast" };
}

export function updateBroadcast(k: Kernel, id: string, b: Body) {
  const r = rowOf(k, id);
  if (r.status !== "draft") throw invalid(`A broadcast that is ${r.status} cannot be updated.`);
  k.sql.exec("UPDATE email_broadcasts SET data = ? WHERE id = ?", JSON.stringify(contentOf(k, b, JSON.parse(r.data) as Content)), id);
  return { id, object: "broadcast" };
}

/** Sends now, or schedules for `scheduled_at` on the run clock. */
export function sendBroadcast(k: Kernel, id: string, b: Body) {
  const r = rowOf(k, id);
  if (r.status !== "draft") throw invalid(`A broadcast that is ${r.status} cannot be sent.`);
  const c = JSON.parse(r.data) as Content;
  if (!c.html && !c.text) throw missingField("html");
  const at = when(k, b.scheduled_at);
  if (at !== null) {
    k.sql.exec("UPDATE email_broadcasts SET status = 'scheduled', scheduled_at = ? WHERE id = ?", at, id);
    k.jobs.schedule("email", BROADCAST_SEND, at, {}, id);
  } else deliver(k, id);
  return { id };
}

type Contact = { id: string; email: string; first_name: string | null; last_name: string | null };

/** One email per subscribed contact of the segment, personalised. Answers how many. */
function deliver(k: Kernel, id: string): number {
  const r = rowOf(k, id);
  const c = JSON.parse(r.data) as Content;
  const contacts = k.sql.exec<Contact>(
    "SELECT c.id, c.email, c.first_name, c.last_name FROM email_contacts AS c JOIN email_contact_segments AS m ON m.contact_id = c.id WHERE m.segment_id = ? AND c.unsubscribed = 0 ORDER BY c.seq",
    c.segment_id,
  ).toArray();
  const base = k.world().urls.email;
  for (const who of contacts) {
    const values: Record<string, string | null> = { FIRST_NAME: who.first_name, LAST_NAME: who.last_name, EMAIL: who.email, RESEND_UNSUBSCRIBE_URL: `${base}/unsubscribe/${id}/${who.id}` };
    const fill = (s: string) => s.replace(/\{\{\{\s*([A-Za-z_]+)(?:\|([^}]*))?\s*\}\}\}/g, (m, key: string, fallback?: string) => (key in values ? (values[key] ?? fallback ?? "") : m));
    createEmail(k, validateEmail(k, {
      from: c.from, to: [who.email], subject: fill(c.subject), ...(c.html ? { html: fill(c.html) } : {}), ...(c.text ? { text: fill(c.text) } : {}),
      ...(c.reply_to ? { reply_to: c.reply_to } : {}), headers: { "List-Unsubscribe": `<${values.RESEND_UNSUBSCRIBE_URL}>` },
    }));
  }
  k.sql.exec("UPDATE email_broadcasts SET status = 'sent', sent_at = ? WHERE id = ?", k.clock.now(), id);
  return contacts.length;
}

export function cancelBroadcast(k: Kernel, id: string) {
  const r = rowOf(k, id);
  if (r.status !== "scheduled") throw invalid(`Only a scheduled broadcast can be canceled; this one is ${r.status}.`);
  k.jobs.cancel(BROADCAST_SEND, id);
  k.sql.exec("UPDATE email_broadcasts SET status = 'draft', scheduled_at = NULL WHERE id = ?", id);
  return { id, object: "broadcast" };
}

export function deleteBroadcast(k: Kernel, id: string) {
  const r = rowOf(k, id);
  if (r.status !== "draft" && r.status !== "scheduled") throw invalid(`A broadcast that is ${r.status} cannot be deleted.`);
  k.jobs.cancel(BROADCAST_SEND, id);
  k.sql.exec("DELETE FROM email_broadcasts WHERE id = ?", id);
  return { id, object: "broadcast", deleted: true };
}

export function duplicateBroadcast(k: Kernel, id: string) {
  const r = rowOf(k, id);
  const c = JSON.parse(r.data) as Content;
  return createBroadcast(k, { ...c, name: c.name ? `${c.name} (Copy)` : null, reply_to: c.reply_to ?? undefined });
}

const times = (r: Row) => ({
  created_at: resendTime(r.created_at),
  scheduled_at: r.scheduled_at === null ? null : resendTime(r.scheduled_at),
  sent_at: r.sent_at === null ? null : resendTime(r.sent_at),
});

export function getBroadcast(k: Kernel, id: string) {
  const r = rowOf(k, id);
  const c = JSON.parse(r.data) as Content;
  return {
    object: "broadcast", id: r.id, name: c.name, audience_id: c.segment_id, segment_id: c.segment_id, from: c.from, subject: c.subject, reply_to: c.reply_to,
    preview_text: c.preview_text, status: r.status, ...times(r), html: c.html, text: c.text, topic_id: null,
  };
}

export function listBroadcasts(k: Kernel, q: { limit?: string; after?: string; before?: string }) {
  const { has_more, rows } = page<Row>(
    k,
    (cur, limit) =>
      cur.before !== undefined
        ? k.sql.exec<Row>("SELECT * FROM email_broadcasts WHERE seq > ? ORDER BY seq ASC LIMIT ?", cur.before, limit).toArray()
        : k.sql.exec<Row>("SELECT * FROM email_broadcasts WHERE seq < ? ORDER BY seq DESC LIMIT ?", cur.after ?? Number.MAX_SAFE_INTEGER, limit).toArray(),
    (id) => k.sql.exec<{ seq: number }>("SELECT seq FROM email_broadcasts WHERE id = ?", id).toArray()[0]?.seq ?? null,
    q,
  );
  return {
    object: "list",
    has_more,
    data: rows.map((r) => {
      const c = JSON.parse(r.data) as Content;
      // Broadcasts are never scoped to a topic here (topics are not built): the field is left out.
      return { id: r.id, name: c.name, audience_id: c.segment_id, segment_id: c.segment_id, status: r.status, ...times(r) };
    }),
  };
}

export function broadcastJobs(k: Kernel) {
  return {
    [BROADCAST_SEND]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const r = k.sql.exec<Row>("SELECT * FROM email_broadcasts WHERE id = ?", job.ref).toArray()[0];
      if (!r || r.status !== "scheduled") return;
      return `broadcast ${r.id} sent to ${deliver(k, r.id)} contacts`;
    },
  };
}
