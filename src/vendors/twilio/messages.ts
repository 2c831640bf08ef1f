// Messages (API 2010): validation with Twilio's codes and magic numbers, the status lifecycle on
// the run clock, signed status callbacks through the outbox, keyset paging. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import { TwilioError, badRequest, notFound } from "./errors.ts";
import { Form, e164, formBody, isAlphanumericSender, isHttpUrl, rfc2822, segments } from "./format.ts";
import { page2010 } from "./paging.ts";
import { findMessagingService, pickSender, type MessagingServiceRow } from "./messaging.ts";

export const API = "/2010-04-01";
export const STEP_JOB = "twilio.message.step";
const MAX_BODY = 1600;
const MIN_SCHEDULE_MS = 900_000;
const MAX_SCHEDULE_MS = 35 * 86_400_000;
/** Delay before each status a message moves to on its own. */
const NEXT: Record<string, [string, number]> = {
  accepted: ["queued", 200],
  scheduled: ["queued", 0],
  queued: ["sending", 1_000],
  sending: ["sent", 500],
};
const SETTLE_MS = 2_000;
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
  return { to, from, body, media, messagingServiceSid: mg, statusCallback: cb, sendAt, direction: "outbound-api" };
}

/** What becomes of a message: the run's `status_callback_fail` preset makes it undelivered. */
function outcomeOf(k: Kernel): string {
  return k.chaos.take("twilio", "status_callback_fail") ? "undelivered:30003" : "delivered";
}

const INSERT = `INSERT INTO twilio_messages (sid, seq, "to", "from", body, status, direction, num_segments, media, messaging_service_sid, status_callback, outcome, error_code, error_message, send_at, date_created, date_updated, date_sent)
  VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM twilio_messages), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?)`;

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
  k.sql.exec(
    INSERT, sid, m.to, m.from, m.body, status, m.direction, segments(m.body), media.length ? JSON.stringify(media) : null, m.messagingServiceSid, m.statusCallback,
    inbound ? "received" : outcomeOf(k), m.sendAt, now, now, inbound ? now : null,
  );
  if (!inbound) {
    if (m.sendAt !== null) k.jobs.schedule("twilio", STEP_JOB, m.sendAt, {}, sid);
    else {
      toInbox(k, m.to, m.from, m.body, sid);
      k.jobs.schedule("twilio", STEP_JOB, now + NEXT[status][1], {}, sid);
    }
  }
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

function setStatus(k: Kernel, sid: string, status: string, extra: { errorCode?: number; errorMessage?: string } = {}): MessageRow {
  const now = k.clock.now();
  const row = k.sql
    .exec<MessageRow>(
      `UPDATE twilio_messages SET status = ?, date_updated = ?, date_sent = CASE WHEN ? = 'sent' THEN ? ELSE date_sent END,
       error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message) WHERE sid = ? RETURNING *`,
      status, now, status, now, extra.errorCode ?? null, extra.errorMessage ?? null, sid,
    )
    .toArray()[0];
  return row ?? getMessage(k, sid);
}

const ERROR_TEXT: Record<number, string> = { 30003: "Unreachable destination handset", 30008: "Unknown error" };

/** The job that moves a message along: one status per run, the next one scheduled. */
export function stepMessage(k: Kernel, sid: string): string | void {
  const row = k.sql.exec<MessageRow>("SELECT * FROM twilio_messages WHERE sid = ?", sid).toArray()[0];
  if (!row || FINAL.has(row.status)) return;
  if (row.status === "sent") {
    const [final, code] = row.outcome.split(":");
    const r = setStatus(k, sid, final, code ? { errorCode: Number(code), errorMessage: ERROR_TEXT[Number(code)] } : {});
    statusCallback(k, r);
    return `message ${sid} ${final}`;
  }
  const step = NEXT[row.status];
  if (!step) return;
  if (row.status === "scheduled") toInbox(k, row.to, row.from, row.body, sid);
  const r = setStatus(k, sid, step[0]);
  if (step[0] === "sent") {
    statusCallback(k, r);
    k.jobs.schedule("twilio", STEP_JOB, k.clock.now() + SETTLE_MS, {}, sid);
  } else {
    k.jobs.schedule("twilio", STEP_JOB, k.clock.now() + NEXT[step[0]][1], {}, sid);
  }
  return `message ${sid} ${step[0]}`;
}

/** A status callback as Twilio posts it: form-encoded, signed at delivery with the auth token. */
function statusCallback(k: Kernel, r: MessageRow): void {
  if (!r.status_callback) return;
  const creds = k.world().credentials.twilio!;
  const body = formBody([
    ["ErrorCode", r.error_code],
    ["SmsSid", r.sid],
    ["SmsStatus", r.status],
    ["MessageStatus", r.status],
    ["To", r.to],
    ["MessagingServiceSid", r.messaging_service_sid],
    ["MessageSid", r.sid],
    ["AccountSid", creds.accountSid],
    ["From", r.from],
    ["ApiVersion", "2010-04-01"],
  ]);
  k.outbox.enqueue({
    kind: "twilio", url: r.status_callback, event: `message.${r.status}`, eventId: r.sid, body, contentType: "application/x-www-form-urlencoded", secret: creds.authToken,
  });
}

/** Update: `Status=canceled` cancels a scheduled message; `Body=""` redacts a finished one. */
export function updateMessage(k: Kernel, sid: string, f: Form): MessageRow {
  const row = getMessage(k, sid);
  const status = f.get("Status");
  if (status !== undefined) {
    if (status !== "canceled") throw badRequest(21218, `Invalid Status: ${status}. Only 'canceled' is supported.`);
    if (row.status !== "scheduled") throw badRequest(30409, "Message cannot be canceled: only scheduled messages can be canceled.");
    k.jobs.cancel(STEP_JOB, sid);
    return setStatus(k, sid, "canceled");
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
