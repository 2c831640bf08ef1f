// Messages (API 2010): validation with Twilio's codes and magic numbers, the status lifecycle on
// the run clock, signed status callbacks through the outbox, keyset paging. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import type { Enqueue } from "../../kernel/outbox.ts";
import { TwilioError, badRequest, notFound } from "./errors.ts";
import { Form, e164, formBody, isAlphanumericSender, isHttpUrl, rfc2822, segments } from "./format.ts";
import { page2010 } from "./paging.ts";
import { findMessagingService, pickSender, type MessagingServiceRow } from "./messaging.ts";

export const API = "/2010-04-01";
/** One message's step (worlds from before ticks still hold these jobs). */
export const STEP_JOB = "twilio.message.step";
/** Moves every message due at its instant one status along, in bulk. */
export const TICK_JOB = "twilio.messages.tick";
const MAX_BODY = 1600;
const MIN_SCHEDULE_MS = 900_000;
const MAX_SCHEDULE_MS = 35 * 86_400_000;
/** A Messaging Service's message is accepted, then queued this much later. */
const ACCEPT_MS = 200;
/** The least time a message spends queued; a busy sender's queue holds it longer. */
const QUEUE_MS = 1_000;
const SENDING_MS = 500;
const SETTLE_MS = 2_000;
/** Twilio keeps a message queued at most 10 hours (30001 after that; 21611 at create for a From). */
const MAX_QUEUE_MS = 36_000_000;
const FINAL = new Set(["delivered", "undelivered", "failed", "received", "canceled", "read"]);

export type MessageRow = {
  sid: string;
  seq: number;
  to: string;
  from: string;
  body: string;
  status: string;
  direction: string;
  num_segments: number;
  media: string | null;
  messaging_service_sid: string | null;
  status_callback: string | null;
  outcome: string;
  error_code: number | null;
  error_message: string | null;
  send_at: number | null;
  date_created: number;
  date_updated: number;
  date_sent: number | null;
  next_at: number | null;
  dequeue_at: number | null;
  validity_period: number | null;
};

export type Media = { sid: string; url: string; content_type: string };

// Twilio's test-credential magic numbers (twilio.com/docs/iam/test-credentials), as Twilio words them.
const MAGIC_TO: Record<string, (to: string, from: string) => [number, string]> = {
  "+15005550001": (to) => [21211, `The 'To' number ${to} is not a valid phone number.`],
  "+15005550002": (to, from) => [21612, `The 'To' phone number: ${to}, is not currently reachable using the 'From' phone number: ${from} via SMS.`],
  "+15005550003": (to) => [21408, `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`],
  "+15005550004": () => [21610, "Attempt to send to unsubscribed recipient"],
  "+15005550009": () => [21614, "'To' number is not a valid mobile number"],
};
const MAGIC_FROM: Record<string, (from: string) => [number, string]> = {
  "+15005550001": (from) => [21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`],
  "+15005550007": (from) => [21606, `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination.`],
  "+15005550008": () => [21611, "This 'From' number has exceeded the maximum number of queued messages"],
};
export const MAGIC_VALID_FROM = "+15005550006";

const CONTENT_TYPES: Record<string, string> = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp", mp4: "video/mp4", mp3: "audio/mpeg", pdf: "application/pdf", vcf: "text/vcard", txt: "text/plain",
};

export const ownsNumber = (k: Kernel, n: string) => k.sql.exec("SELECT 1 FROM twilio_numbers WHERE phone_number = ?", n).toArray().length > 0;

export interface NewMessage {
  to: string;
  from: string;
  body: string;
  media: string[];
  messagingServiceSid: string | null;
  statusCallback: string | null;
  sendAt: number | null;
  /** Seconds it may wait in the sender's queue (ValidityPeriod, or its Messaging Service's). */
  validityPeriod?: number | null;
  direction: "outbound-api" | "outbound-reply" | "inbound";
}

/** Checks a create request as Twilio does, in the order it reports problems. */
export function validateMessage(k: Kernel, f: Form): NewMessage {
  const rawTo = f.get("To");
  if (!rawTo) throw badRequest(21604, "A 'To' phone number is required.");
  const mg = f.get("MessagingServiceSid") || null;
  const rawFrom = f.get("From") || null;
  if (!rawFrom && !mg) throw badRequest(21603, "A 'From' phone number is required.");
  const body = f.get("Body") ?? "";
  const media = f.all("MediaUrl").filter((u) => u !== "");
  if (body === "" && media.length === 0 && !f.get("ContentSid")) throw badRequest(21602, "Message body is required.");
  if (body.length > MAX_BODY) throw badRequest(21617, "The concatenated message body exceeds the 1600 character limit.");
  if (media.length > 10) throw badRequest(21623, "Number of media files exceeds allowed limit.");
  for (const u of media) if (!isHttpUrl(u)) throw badRequest(21620, `Invalid media URL(s): ${u}`);
  const to = e164(rawTo);
  if (!to) throw badRequest(21211, `The 'To' number ${rawTo} is not a valid phone number.`);
  let svc: MessagingServiceRow | null = null;
  if (mg !== null && !(/^MG[0-9a-f]{32}$/.test(mg) && (svc = findMessagingService(k, mg)))) throw badRequest(21701, `The Messaging Service Sid ${mg} is invalid.`);
  let from: string;
  if (rawFrom) {
    const n = e164(rawFrom);
    if (n && MAGIC_FROM[n]) throw badRequest(...MAGIC_FROM[n](n));
    if (n) {
      if (n !== MAGIC_VALID_FROM && !ownsNumber(k, n)) throw badRequest(21606, `The 'From' phone number provided (${n}) is not a valid message-capable Twilio phone number for this destination.`);
      from = n;
    } else if (isAlphanumericSender(rawFrom)) from = rawFrom;
    else throw badRequest(21212, `The 'From' number ${rawFrom} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
  } else {
    const pooled = pickSender(k, svc!, to);
    if (!pooled) throw badRequest(21703, "The Messaging Service does not have a phone number available to send a message.");
    from = pooled;
  }
  if (to === from) throw badRequest(21266, "'To' and 'From' number cannot be the same");
  if (MAGIC_TO[to]) throw badRequest(...MAGIC_TO[to](to, from));
  let cb = f.get("StatusCallback") || null;
  if (cb !== null && !isHttpUrl(cb)) throw badRequest(21609, `Invalid StatusCallback url: ${cb}`);
  cb ??= svc?.status_callback ?? null;
  const validity = f.get("ValidityPeriod");
  if (validity !== undefined && !(/^\d+$/.test(validity) && Number(validity) >= 1 && Number(validity) <= 36_000)) {
    throw badRequest(21624, "Invalid validity period value. It must be between 1 and 36000 seconds.");
  }
  const validityPeriod = validity !== undefined ? Number(validity) : (svc?.validity_period ?? null);
  let sendAt: number | null = null;
  const scheduleType = f.get("ScheduleType");
  const rawSendAt = f.get("SendAt");
  if (scheduleType !== undefined || rawSendAt !== undefined) {
    if (scheduleType !== "fixed") throw badRequest(35115, "ScheduleType must be 'fixed' to schedule a message.");
    if (!mg) throw badRequest(35111, "MessagingServiceSid is required to schedule a message.");
    const at = rawSendAt === undefined ? NaN : Date.parse(rawSendAt);
    if (Number.isNaN(at)) throw badRequest(35112, "SendAt is required to schedule a message.");
    const ahead = at - k.clock.now();
    if (ahead < MIN_SCHEDULE_MS || ahead > MAX_SCHEDULE_MS) {
      throw badRequest(35114, "Scheduling does not support this timestamp: SendAt must be between 15 minutes and 35 days in the future.");
    }
    sendAt = at;
  }
  return { to, from, body, media, messagingServiceSid: mg, statusCallback: cb, sendAt, validityPeriod, direction: "outbound-api" };
}

/** What becomes of a message: the run's `status_callback_fail` preset makes it undelivered. */
function outcomeOf(k: Kernel): string {
  return k.chaos.take("twilio", "status_callback_fail") ? "undelivered:30003" : "delivered";
}

/**
 * Segments a second a sender sends (Twilio's MPS): US and Canadian long codes 1, toll-free 3, other
 * numbers and alphanumeric ids 10. The magic test sender is not held back (test credentials send nothing).
 */
function mpsOf(from: string): number | null {
  if (from === MAGIC_VALID_FROM) return null;
  if (/^\+1(800|833|844|855|866|877|888)\d{7}$/.test(from)) return 3;
  return from.startsWith("+1") ? 1 : 10;
}

/** Makes sure a tick job moves the messages due at `at`. */
function tickAt(k: Kernel, at: number): void {
  if (!k.jobs.has(TICK_JOB, String(at))) k.jobs.schedule("twilio", TICK_JOB, at, {}, String(at));
}

const INSERT = `INSERT INTO twilio_messages (sid, seq, "to", "from", body, status, direction, num_segments, media, messaging_service_sid, status_callback, outcome, error_code, error_message, send_at, date_created, date_updated, date_sent, next_at, dequeue_at, validity_period)
  VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM twilio_messages), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)`;

/** Stores an outbound message and starts its lifecycle (or schedules it); answers the row. */
export function createMessage(k: Kernel, m: NewMessage): MessageRow {
  const sid = k.ids.make("SM", 32, "hex");
  const now = k.clock.now();
  const media: Media[] = m.media.map((url) => ({
    sid: k.ids.make("ME", 32, "hex"),
    url,
    content_type: CONTENT_TYPES[/\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? ""] ?? "application/octet-stream",
  }));
  const inbound = m.direction === "inbound";
  const status = inbound ? "received" : m.sendAt !== null ? "scheduled" : m.messagingServiceSid ? "accepted" : "queued";
  const numSegments = segments(m.body);
  let outcome = inbound ? "received" : outcomeOf(k);
  let nextAt: number | null = null;
  let dequeueAt: number | null = null;
  if (!inbound && m.sendAt !== null) nextAt = m.sendAt;
  else if (!inbound) {
    // The sender's queue: it sends `mps` segments a second, first come first served. A message
    // that would wait longer than its validity period fails when that period ends, unsent.
    const queuedAt = now + (status === "accepted" ? ACCEPT_MS : 0);
    const mps = mpsOf(m.from);
    const free = mps === null ? 0 : (k.sql.exec<{ free_at: number }>("SELECT free_at FROM twilio_senders WHERE sender = ?", m.from).toArray()[0]?.free_at ?? 0);
    const start = Math.max(queuedAt + QUEUE_MS, free);
    if (!m.messagingServiceSid && start - now > MAX_QUEUE_MS) throw badRequest(21611, "This 'From' number has exceeded the maximum number of queued messages");
    const validity = m.validityPeriod ?? null;
    const limit = validity === null ? MAX_QUEUE_MS : validity * 1000;
    if (start - now > limit) {
      outcome = validity === null ? "failed:30001" : "failed:30036";
      dequeueAt = Math.max(now + limit, queuedAt);
    } else {
      dequeueAt = start;
      if (mps !== null) {
        k.sql.exec(
          "INSERT INTO twilio_senders (sender, free_at) VALUES (?, ?) ON CONFLICT(sender) DO UPDATE SET free_at = excluded.free_at",
          m.from, start + Math.ceil((numSegments * 1000) / mps),
        );
      }
    }
    nextAt = status === "accepted" ? queuedAt : dequeueAt;
  }
  k.sql.exec(
    INSERT, sid, m.to, m.from, m.body, status, m.direction, numSegments, media.length ? JSON.stringify(media) : null, m.messagingServiceSid, m.statusCallback,
    outcome, m.sendAt, now, now, inbound ? now : null, nextAt, dequeueAt, m.validityPeriod ?? null,
  );
  if (nextAt !== null) tickAt(k, nextAt);
  // The handset's inbox, at once (as email's): unless it is already known never to leave the queue.
  if (!inbound && m.sendAt === null && !outcome.startsWith("failed:")) toInbox(k, m.to, m.from, m.body, sid);
  return getMessage(k, sid);
}

function toInbox(k: Kernel, to: string, from: string, body: string, sid: string): void {
  k.inbox.add({ kind: "twilio", channel: "sms", to, from, text: body, ref: sid });
}

export function getMessage(k: Kernel, sid: string): MessageRow {
  const row = k.sql.exec<MessageRow>("SELECT * FROM twilio_messages WHERE sid = ?", sid).toArray()[0];
  if (!row) throw notFound(`${API}/Accounts/${k.world().credentials.twilio!.accountSid}/Messages/${sid}.json`);
  return row;
}

const ERROR_CODE = "CAST(substr(outcome, instr(outcome, ':') + 1) AS INTEGER)";
/** Whether this step ends the message with the error its outcome names. */
const ENDS_IN_ERROR = "((status = 'queued' AND outcome LIKE 'failed:%') OR (status = 'sent' AND instr(outcome, ':') > 0))";

/**
 * One status along for every message due by ?1, in one statement (SET sees the old row):
 * accepted/scheduled → queued → sending → sent → delivered (or undelivered), or queued → failed
 * when it outlived its validity period in the sender's queue.
 */
const TICK = `UPDATE twilio_messages SET
  status = CASE status
    WHEN 'accepted' THEN 'queued'
    WHEN 'scheduled' THEN 'queued'
    WHEN 'queued' THEN CASE WHEN outcome LIKE 'failed:%' THEN 'failed' ELSE 'sending' END
    WHEN 'sending' THEN 'sent'
    ELSE substr(outcome, 1, instr(outcome || ':', ':') - 1) END,
  error_code = CASE WHEN ${ENDS_IN_ERROR} THEN ${ERROR_CODE} ELSE error_code END,
  error_message = CASE WHEN ${ENDS_IN_ERROR} THEN CASE ${ERROR_CODE}
    WHEN 30003 THEN 'Unreachable destination handset' WHEN 30036 THEN 'Validity Period Expired' WHEN 30001 THEN 'Queue overflow' ELSE 'Unknown error' END
    ELSE error_message END,
  date_sent = CASE WHEN status = 'sending' THEN ?1 ELSE date_sent END,
  date_updated = ?1,
  next_at = CASE status
    WHEN 'accepted' THEN COALESCE(dequeue_at, ?1 + ${QUEUE_MS})
    WHEN 'scheduled' THEN ?1 + ${QUEUE_MS}
    WHEN 'queued' THEN CASE WHEN outcome LIKE 'failed:%' THEN NULL ELSE ?1 + ${SENDING_MS} END
    WHEN 'sending' THEN ?1 + ${SETTLE_MS}
    ELSE NULL END
WHERE next_at <= ?1 AND status IN ('accepted', 'scheduled', 'queued', 'sending', 'sent')
RETURNING sid, status, "to", "from", body, send_at, status_callback, messaging_service_sid, error_code, next_at`;

type Stepped = Pick<MessageRow, "sid" | "status" | "to" | "from" | "body" | "send_at" | "status_callback" | "messaging_service_sid" | "error_code" | "next_at">;
const CALLBACK_STATUSES = new Set(["sent", "delivered", "undelivered", "failed"]);

/** The tick job: every message due now moves one status along; their callbacks go out together. */
export function tick(k: Kernel): string | void {
  const now = k.clock.now();
  const rows = k.sql.exec<Stepped>(TICK, now).toArray();
  if (rows.length === 0) return;
  const accountSid = k.world().credentials.twilio!.accountSid;
  const secret = k.world().credentials.twilio!.authToken;
  const next = new Set<number>();
  const counts = new Map<string, number>();
  const callbacks: Enqueue[] = [];
  for (const r of rows) {
    if (r.next_at !== null) next.add(r.next_at);
    counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    // A scheduled message reaches the handset's inbox when it is sent for real, at SendAt.
    if (r.status === "queued" && r.send_at !== null) toInbox(k, r.to, r.from, r.body, r.sid);
    if (r.status_callback && CALLBACK_STATUSES.has(r.status)) callbacks.push(statusCallback(r, accountSid, secret));
  }
  k.outbox.enqueueMany(callbacks);
  for (const at of next) tickAt(k, at);
  const what = [...counts].map(([st, n]) => `${n} ${st}`).join(", ");
  return rows.length === 1 ? `message ${rows[0].sid} ${rows[0].status}` : `messages: ${what}`;
}

/** A job of the per-message kind that worlds from before ticks hold: its message joins the ticks. */
export function stepMessage(k: Kernel, sid: string): string | void {
  k.sql.exec(
    `UPDATE twilio_messages SET next_at = ? WHERE sid = ? AND status IN ('accepted', 'scheduled', 'queued', 'sending', 'sent')`,
    k.clock.now(), sid,
  );
  return tick(k);
}

/** A status callback as Twilio posts it: form-encoded, signed at delivery with the auth token. */
function statusCallback(r: Stepped, accountSid: string, secret: string): Enqueue {
  const body = formBody([
    ["ErrorCode", r.error_code],
    ["SmsSid", r.sid],
    ["SmsStatus", r.status],
    ["MessageStatus", r.status],
    ["To", r.to],
    ["MessagingServiceSid", r.messaging_service_sid],
    ["MessageSid", r.sid],
    ["AccountSid", accountSid],
    ["From", r.from],
    ["ApiVersion", "2010-04-01"],
  ]);
  return { kind: "twilio", url: r.status_callback!, event: `message.${r.status}`, eventId: r.sid, body, contentType: "application/x-www-form-urlencoded", secret };
}

/** Update: `Status=canceled` cancels a scheduled message; `Body=""` redacts a finished one. */
export function updateMessage(k: Kernel, sid: string, f: Form): MessageRow {
  const row = getMessage(k, sid);
  const status = f.get("Status");
  if (status !== undefined) {
    if (status !== "canceled") throw badRequest(21218, `Invalid Status: ${status}. Only 'canceled' is supported.`);
    if (row.status !== "scheduled") throw badRequest(30409, "Message cannot be canceled: only scheduled messages can be canceled.");
    k.jobs.cancel(STEP_JOB, sid);
    k.sql.exec("UPDATE twilio_messages SET status = 'canceled', next_at = NULL, date_updated = ? WHERE sid = ?", k.clock.now(), sid);
    return getMessage(k, sid);
  }
  const body = f.get("Body");
  if (body !== undefined) {
    if (body !== "") throw badRequest(20009, "Message body can only be redacted: Body must be empty.");
    if (!FINAL.has(row.status)) throw badRequest(20009, "Cannot redact message because delivery has not been completed.");
    k.sql.exec("UPDATE twilio_messages SET body = '', date_updated = ? WHERE sid = ?", k.clock.now(), sid);
  }
  return getMessage(k, sid);
}

export function deleteMessage(k: Kernel, sid: string): void {
  const row = getMessage(k, sid);
  if (!FINAL.has(row.status)) throw new TwilioError(409, 20009, "Cannot delete message because delivery has not been completed.");
  k.jobs.cancel(STEP_JOB, sid);
  k.sql.exec("DELETE FROM twilio_messages WHERE sid = ?", sid);
}

export function mediaOf(row: MessageRow): Media[] {
  return row.media ? (JSON.parse(row.media) as Media[]) : [];
}

export function messageJson(k: Kernel, r: MessageRow) {
  const ac = k.world().credentials.twilio!.accountSid;
  const uri = `${API}/Accounts/${ac}/Messages/${r.sid}`;
  return {
    account_sid: ac,
    api_version: "2010-04-01",
    body: r.body,
    date_created: rfc2822(r.date_created),
    date_sent: rfc2822(r.date_sent),
    date_updated: rfc2822(r.date_updated),
    direction: r.direction,
    error_code: r.error_code,
    error_message: r.error_message,
    from: r.from,
    messaging_service_sid: r.messaging_service_sid,
    num_media: String(mediaOf(r).length),
    num_segments: String(r.num_segments),
    price: null,
    price_unit: "USD",
    sid: r.sid,
    status: r.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: r.to,
    uri: `${uri}.json`,
  };
}

export function mediaJson(k: Kernel, r: MessageRow, m: Media) {
  const ac = k.world().credentials.twilio!.accountSid;
  return {
    account_sid: ac,
    content_type: m.content_type,
    date_created: rfc2822(r.date_created),
    date_updated: rfc2822(r.date_updated),
    parent_sid: r.sid,
    sid: m.sid,
    uri: `${API}/Accounts/${ac}/Messages/${r.sid}/Media/${m.sid}.json`,
  };
}

/** `DateSent<`/`DateSent>` bounds: a date alone (or a UTC midnight) means that whole day. */
function instant(v: string, end: boolean): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v) || /^\d{4}-\d{2}-\d{2}T00:00:00(\.000)?Z$/.test(v);
  const t = Date.parse(dateOnly ? `${v.slice(0, 10)}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw badRequest(20001, `Invalid DateSent: ${v}`);
  return dateOnly && end ? t + 86_399_999 : t;
}

/** `DateSent=`: the UTC day the given date or instant falls on. */
function day(v: string): [number, number] {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw badRequest(20001, `Invalid DateSent: ${v}`);
  const start = t - (t % 86_400_000);
  return [start, start + 86_399_999];
}

export function listMessages(k: Kernel, q: Form) {
  const ac = k.world().credentials.twilio!.accountSid;
  const to = q.get("To");
  const from = q.get("From");
  const on = q.get("DateSent");
  const before = q.get("DateSent<");
  const after = q.get("DateSent>");
  const toN = to === undefined ? null : (e164(to) ?? to);
  const fromN = from === undefined ? null : (e164(from) ?? from);
  const [lo, hi] = on !== undefined ? day(on) : [after !== undefined ? instant(after, false) : null, before !== undefined ? instant(before, true) : null];
  return page2010(
    `${API}/Accounts/${ac}/Messages.json`,
    "messages",
    q,
    [["To", to], ["From", from], ["DateSent", on], ["DateSent<", before], ["DateSent>", after]],
    (cursor, limit) =>
      k.sql
        .exec<MessageRow>(
          `SELECT * FROM twilio_messages WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR "to" = ?2) AND (?3 IS NULL OR "from" = ?3)
           AND (?4 IS NULL OR date_sent >= ?4) AND (?5 IS NULL OR date_sent <= ?5) ORDER BY seq DESC LIMIT ?6`,
          cursor, toN, fromN, lo, hi, limit,
        )
        .toArray(),
    (r) => messageJson(k, r),
  );
}
