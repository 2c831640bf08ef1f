// The email clone's rules: validation, the delivery lifecycle on the run clock, and its events.
// Never sees a Request: routes decode, call these, encode.
import { desc, eq, gt, lt, asc } from "drizzle-orm";
import { renderTemplate } from "./templates.ts";
import type { Kernel } from "../../kernel/types.ts";
import { fromBase64 } from "../../lib/crypto.ts";
import { emails } from "./schema.ts";
import { ResendError, invalid, missingField, notFound } from "./errors.ts";
import { addressOf, asList, parseWhen, resendTime } from "./format.ts";
import { emitEmailEvent, type EmailRow } from "./events.ts";
import { emailQueries } from "./queries.ts";

export const SETTLE_DELAY_MS = 2_000;
export const DELAYED_DELIVERY_MS = 3_600_000;
const MAX_SCHEDULE_MS = 30 * 86_400_000;

type Outcome = "delivered" | "bounced" | "complained" | "delayed";

export interface AttachmentMeta {
  id: string;
  filename: string | null;
  content_type: string | null;
  content_id: string | null;
  path: string | null;
  size: number;
  sha256: string | null;
}

const ADDRESS_FORMAT = "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.";
const TAG = /^[A-Za-z0-9_-]{1,256}$/;

function addresses(field: string, v: unknown, required: boolean, max = 50): string[] {
  const list = asList(v);
  if (list === null) throw invalid(`Invalid \`${field}\` field. ${ADDRESS_FORMAT}`);
  if (required && list.length === 0) throw missingField(field);
  if (list.length > max) throw invalid(`Invalid \`${field}\` field. Too many recipients (max ${max}).`);
  for (const a of list) if (!addressOf(a)) throw invalid(`Invalid \`${field}\` field. ${ADDRESS_FORMAT}`);
  return list;
}

export interface Validated {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string> | null;
  tags: { name: string; value: string }[] | null;
  attachments: { filename: string | null; content_type: string | null; content_id: string | null; path: string | null; bytes: Uint8Array | null }[];
  scheduledAt: number | null;
}

/** Checks a send request as Resend does, in the order it reports problems. */
export function validateEmail(k: Kernel, body: unknown, opts: { batch?: boolean } = {}): Validated {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("The request body must be a JSON object.");
  let b = body as Record<string, unknown>;
  if (b.template !== undefined && b.template !== null) {
    if (b.html != null || b.text != null) throw invalid("The `template` field cannot be used together with `html` or `text`.");
    const t = renderTemplate(k, b.template);
    b = { ...b, from: b.from ?? t.from ?? undefined, subject: b.subject ?? t.subject ?? undefined, reply_to: b.reply_to ?? t.replyTo ?? undefined, html: t.html, text: t.text ?? undefined };
  }
  if (b.from === undefined || b.from === null || b.from === "") throw missingField("from");
  if (typeof b.from !== "string" || !addressOf(b.from)) throw new ResendError(422, "invalid_from_address", `Invalid \`from\` field. ${ADDRESS_FORMAT}`);
  if (b.to === undefined || b.to === null) throw missingField("to");
  const to = addresses("to", b.to, true);
  if (b.subject === undefined || b.subject === null) throw missingField("subject");
  if (typeof b.subject !== "string") throw invalid("Invalid `subject` field. It must be a string.");
  for (const f of ["html", "text"] as const) {
    if (b[f] !== undefined && b[f] !== null && typeof b[f] !== "string") throw invalid(`Invalid \`${f}\` field. It must be a string.`);
  }
  let headers: Record<string, string> | null = null;
  if (b.headers !== undefined && b.headers !== null) {
    if (typeof b.headers !== "object" || Array.isArray(b.headers) || !Object.values(b.headers).every((v) => typeof v === "string")) {
      throw invalid("Invalid `headers` field. It must be an object of string values.");
    }
    headers = b.headers as Record<string, string>;
  }
  let tags: Validated["tags"] = null;
  if (b.tags !== undefined && b.tags !== null) {
    if (!Array.isArray(b.tags)) throw invalid("Invalid `tags` field. It must be an array of { name, value }.");
    tags = b.tags.map((t) => {
      const name = (t as { name?: unknown })?.name;
      const value = (t as { value?: unknown })?.value ?? "";
      if (typeof name !== "string" || !TAG.test(name)) {
        throw invalid("Invalid `tags` field. Tag names can only contain ASCII letters (a–z, A–Z), numbers (0–9), underscores (_), or dashes (-).");
      }
      if (typeof value !== "string" || (value !== "" && !TAG.test(value))) {
        throw invalid("Invalid `tags` field. Tag values can only contain ASCII letters (a–z, A–Z), numbers (0–9), underscores (_), or dashes (-).");
      }
      return { name, value };
    });
  }
  const attachments: Validated["attachments"] = [];
  if (b.attachments !== undefined && b.attachments !== null) {
    if (opts.batch) throw invalid("The `attachments` field is not supported for batch emails.");
    if (!Array.isArray(b.attachments)) throw invalid("Invalid `attachments` field. It must be an array.");
    for (const a of b.attachments as Record<string, unknown>[]) {
      const content = a?.content;
      const path = a?.path;
      if ((content === undefined || content === null) && typeof path !== "string") {
        throw new ResendError(422, "invalid_attachment", "Attachment must have either a `content` or `path`.");
      }
      let bytes: Uint8Array | null = null;
      if (typeof content === "string") {
        try {
          bytes = fromBase64(content);
        } catch {
          throw new ResendError(422, "invalid_attachment", "Attachment `content` must be base64 encoded.");
        }
      } else if (Array.isArray(content) && content.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) {
        bytes = Uint8Array.from(content as number[]);
      } else if (content !== undefined && content !== null) {
        throw new ResendError(422, "invalid_attachment", "Attachment `content` must be a base64 string or a byte array.");
      }
      attachments.push({
        filename: typeof a.filename === "string" ? a.filename : null,
        content_type: typeof a.content_type === "string" ? a.content_type : null,
        content_id: typeof a.content_id === "string" ? a.content_id : null,
        path: typeof path === "string" ? path : null,
        bytes,
      });
    }
  }
  let scheduledAt: number | null = null;
  if (b.scheduled_at !== undefined && b.scheduled_at !== null) {
    if (opts.batch) throw invalid("The `scheduled_at` field is not supported for batch emails.");
    scheduledAt = typeof b.scheduled_at === "string" ? parseWhen(b.scheduled_at, k.clock.now()) : null;
    if (scheduledAt === null) throw invalid("Invalid `scheduled_at` field. Use an ISO 8601 date or natural language such as `in 1 min`.");
    if (scheduledAt > k.clock.now() + MAX_SCHEDULE_MS) throw invalid("Invalid `scheduled_at` field. Emails can be scheduled up to 30 days in advance.");
  }
  return {
    from: b.from,
    to,
    cc: addresses("cc", b.cc, false),
    bcc: addresses("bcc", b.bcc, false),
    replyTo: addresses("reply_to", b.reply_to, false),
    subject: b.subject,
    html: (b.html as string | undefined) ?? null,
    text: (b.text as string | undefined) ?? null,
    headers,
    tags,
    attachments,
    scheduledAt,
  };
}

/** Decides what will become of a message: Resend's test addresses first, then the run's chaos presets. */
function outcomeOf(k: Kernel, v: Validated): Outcome {
  const all = [...v.to, ...v.cc, ...v.bcc].map((a) => addressOf(a)!.toLowerCase());
  if (all.some((a) => a === "bounced@resend.dev" || /^bounced\+[^@]*@resend\.dev$/.test(a))) return "bounced";
  if (all.some((a) => a === "complained@resend.dev" || /^complained\+[^@]*@resend\.dev$/.test(a))) return "complained";
  if (k.chaos.take("email", "bounce")) return "bounced";
  if (k.chaos.take("email", "spamtrap")) return "complained";
  if (k.chaos.take("email", "delivery_delay")) return "delayed";
  return "delivered";
}

/** Stores and sends (or schedules) one message; answers its id. */
export function createEmail(k: Kernel, v: Validated): string {
  const id = k.ids.uuid("email");
  const now = k.clock.now();
  const attachments: AttachmentMeta[] = [];
  for (const a of v.attachments) {
    attachments.push({
      id: k.ids.uuid("attachment"),
      filename: a.filename,
      content_type: a.content_type,
      content_id: a.content_id,
      path: a.path,
      size: a.bytes?.byteLength ?? 0,
      sha256: a.bytes ? k.blobs.put(a.bytes) : null,
    });
  }
  const outcome = outcomeOf(k, v);
  const row: EmailRow = {
    id,
    seq: nextSeq(k),
    createdAt: now,
    from: v.from,
    to: JSON.stringify(v.to),
    cc: v.cc.length ? JSON.stringify(v.cc) : null,
    bcc: v.bcc.length ? JSON.stringify(v.bcc) : null,
    replyTo: v.replyTo.length ? JSON.stringify(v.replyTo) : null,
    subject: v.subject,
    html: v.html,
    text: v.text,
    headers: v.headers ? JSON.stringify(v.headers) : null,
    tags: v.tags ? JSON.stringify(v.tags) : null,
    attachments: attachments.length ? JSON.stringify(attachments) : null,
    scheduledAt: v.scheduledAt,
    lastEvent: v.scheduledAt !== null ? "scheduled" : "queued",
    messageId: `<${id}@email.molar.localhost>`,
  };
  emailQueries(k).insert.run(row);
  if (v.scheduledAt !== null && v.scheduledAt > now) {
    k.jobs.schedule("email", "email.send", v.scheduledAt, { outcome }, id);
    emitEmailEvent(k, "email.scheduled", row);
  } else {
    dispatch(k, row, outcome);
  }
  return id;
}

function nextSeq(k: Kernel): number {
  return Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM email_emails").one().v);
}

export function getRow(k: Kernel, id: string): EmailRow {
  const row = emailQueries(k).byId.get({ id });
  if (!row) throw notFound("Email");
  return row;
}

/** Hands a message to "the recipient's server": sent now, its fate settled a moment later. */
function dispatch(k: Kernel, scheduled: EmailRow, outcome: Outcome): void {
  const row = setEvent(k, scheduled.id, "sent");
  const id = row.id;
  for (const to of [...JSON.parse(row.to), ...JSON.parse(row.cc ?? "[]"), ...JSON.parse(row.bcc ?? "[]")] as string[]) {
    k.inbox.add({ kind: "email", channel: "email", to: addressOf(to) ?? to, from: row.from, subject: row.subject, text: row.text, html: row.html, ref: id });
  }
  emitEmailEvent(k, "email.sent", row);
  k.jobs.schedule("email", "email.settle", k.clock.now() + SETTLE_DELAY_MS, { outcome }, id);
}

function setEvent(k: Kernel, id: string, ev: string): EmailRow {
  const row = emailQueries(k).setEvent.get({ id, ev });
  if (!row) throw notFound("Email");
  return row;
}

/** Job handlers of the email clone, run by the platform as the clock reaches them. */
export function emailJobs(k: Kernel) {
  return {
    "email.send": (p: Record<string, unknown>, job: { ref: string | null }) => {
      const row = emailQueries(k).byId.get({ id: job.ref! });
      if (!row || row.lastEvent !== "scheduled") return;
      dispatch(k, row, p.outcome as Outcome);
      return `email ${row.id} sent`;
    },
    "email.settle": (p: Record<string, unknown>, job: { ref: string | null }) => {
      const id = job.ref!;
      const outcome = p.outcome as Outcome;
      if (!emailQueries(k).byId.get({ id })) return;
      if (outcome === "bounced") {
        emitEmailEvent(k, "email.bounced", setEvent(k, id, "bounced"), {
          bounce: {
            type: "Permanent",
            subType: "General",
            message: "The recipient's email provider sent a hard bounce message.",
            diagnosticCode: ["smtp; 550 5.1.1 The email account that you tried to reach does not exist."],
          },
        });
        return `email ${id} bounced`;
      }
      if (outcome === "delayed") {
        emitEmailEvent(k, "email.delivery_delayed", setEvent(k, id, "delivery_delayed"));
        k.jobs.schedule("email", "email.settle", k.clock.now() + DELAYED_DELIVERY_MS, { outcome: "delivered" }, id);
        return `email ${id} delivery delayed`;
      }
      emitEmailEvent(k, "email.delivered", setEvent(k, id, "delivered"));
      if (outcome === "complained") {
        k.jobs.schedule("email", "email.complain", k.clock.now() + SETTLE_DELAY_MS, {}, id);
      }
      return `email ${id} delivered`;
    },
    "email.complain": (_p: Record<string, unknown>, job: { ref: string | null }) => {
      emitEmailEvent(k, "email.complained", setEvent(k, job.ref!, "complained"));
      return `email ${job.ref} complained`;
    },
    "email.domain_verify": (_p: Record<string, unknown>, job: { ref: string | null }) => {
      k.sql.exec("UPDATE email_domains SET status = 'verified' WHERE id = ? AND status = 'pending'", job.ref);
      return `domain ${job.ref} verified`;
    },
  };
}

export function cancelEmail(k: Kernel, id: string): void {
  const row = getRow(k, id);
  if (row.lastEvent !== "scheduled") throw invalid("Email cannot be canceled because it is not scheduled.");
  k.jobs.cancel("email.send", id);
  setEvent(k, id, "canceled");
}

export function rescheduleEmail(k: Kernel, id: string, when: unknown): void {
  const row = getRow(k, id);
  if (row.lastEvent !== "scheduled") throw invalid("Email cannot be updated because it is not scheduled.");
  const at = typeof when === "string" ? parseWhen(when, k.clock.now()) : null;
  if (at === null) throw invalid("Invalid `scheduled_at` field. Use an ISO 8601 date or natural language such as `in 1 min`.");
  k.db.update(emails).set({ scheduledAt: at }).where(eq(emails.id, id)).run();
  k.jobs.reschedule("email.send", id, at);
}

export function emailJson(row: EmailRow) {
  return {
    object: "email",
    id: row.id,
    message_id: row.messageId,
    to: JSON.parse(row.to),
    from: row.from,
    created_at: resendTime(row.createdAt),
    subject: row.subject,
    html: row.html,
    text: row.text,
    bcc: row.bcc ? JSON.parse(row.bcc) : [],
    cc: row.cc ? JSON.parse(row.cc) : [],
    reply_to: row.replyTo ? JSON.parse(row.replyTo) : [],
    last_event: row.lastEvent,
    scheduled_at: row.scheduledAt === null ? null : resendTime(row.scheduledAt),
    tags: row.tags ? JSON.parse(row.tags) : undefined,
  };
}

/** Resend pagination: newest first, `after`/`before` are ids, `limit` 1..100 (default 20). */
export function page<T extends { seq: number }>(
  k: Kernel,
  fetch: (cursor: { after?: number; before?: number }, limit: number) => T[],
  seqOf: (id: string) => number | null,
  q: { limit?: string; after?: string; before?: string },
): { has_more: boolean; rows: T[] } {
  let limit = 20;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid("The `limit` parameter must be an integer between 1 and 100.");
  }
  if (q.after && q.before) throw invalid("You can only use one of `after` or `before`.");
  const cursorId = q.after ?? q.before;
  let cursor: { after?: number; before?: number } = {};
  if (cursorId) {
    const seq = seqOf(cursorId);
    if (seq === null) throw invalid(`The cursor ${JSON.stringify(cursorId)} does not match any item.`);
    cursor = q.after ? { after: seq } : { before: seq };
  }
  // `before` pages are fetched oldest-first from the cursor, then turned newest-first.
  const rows = fetch(cursor, limit + 1);
  const has_more = rows.length > limit;
  const kept = rows.slice(0, limit);
  return { has_more, rows: cursor.before !== undefined ? kept.reverse() : kept };
}

export function listEmails(k: Kernel, q: { limit?: string; after?: string; before?: string }) {
  const { has_more, rows } = page(
    k,
    (c, limit) => {
      if (c.before !== undefined) {
        return k.db.select().from(emails).where(gt(emails.seq, c.before)).orderBy(asc(emails.seq)).limit(limit).all();
      }
      const where = c.after !== undefined ? lt(emails.seq, c.after) : undefined;
      return k.db.select().from(emails).where(where).orderBy(desc(emails.seq)).limit(limit).all();
    },
    (id) => k.db.select({ seq: emails.seq }).from(emails).where(eq(emails.id, id)).get()?.seq ?? null,
    q,
  );
  return { object: "list", has_more, data: rows.map(emailJson) };
}

