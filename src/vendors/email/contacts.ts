// Contacts and segments of the email clone (Resend), with the legacy audiences served as segments
// under their old names: the SDK's `audiences` is its `segments`, and a contact given an
// `audienceId` goes to /audiences/{id}/contacts.
import type { Kernel } from "../../kernel/types.ts";
import { invalid, missingField, notFound } from "./errors.ts";
import { addressOf, resendTime } from "./format.ts";
import { page } from "./domain.ts";

type ContactRow = { id: string; seq: number; email: string; first_name: string | null; last_name: string | null; unsubscribed: number; properties: string; created_at: number; updated_at: number };
type SegmentRow = { id: string; seq: number; name: string; created_at: number };
type Query = { limit?: string; after?: string; before?: string };
type Body = Record<string, unknown>;

/** Which of the two names a segment goes by on this route. */
export type SegmentNoun = "segment" | "audience";

const nextSeq = (k: Kernel, table: string) => Number(k.sql.exec<{ v: number }>(`SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM ${table}`).one().v);

// ---- segments ------------------------------------------------------------------------------

function segmentRow(k: Kernel, id: string, noun: SegmentNoun): SegmentRow {
  const s = k.sql.exec<SegmentRow>("SELECT * FROM email_segments WHERE id = ?", id).toArray()[0];
  if (!s) throw notFound(noun === "segment" ? "Segment" : "Audience");
  return s;
}

export function createSegment(k: Kernel, b: Body, noun: SegmentNoun) {
  if (b.name === undefined || b.name === null) throw missingField("name");
  if (typeof b.name !== "string" || b.name.trim() === "") throw invalid("Invalid `name` field. It must be a non-empty string.");
  const id = k.ids.uuid("segment");
  k.sql.exec("INSERT INTO email_segments (id, seq, name, created_at) VALUES (?, ?, ?, ?)", id, nextSeq(k, "email_segments"), b.name, k.clock.now());
  return { object: noun, id, name: b.name };
}

const segmentJson = (s: SegmentRow) => ({ id: s.id, name: s.name, created_at: resendTime(s.created_at) });

export const getSegment = (k: Kernel, id: string, noun: SegmentNoun) => ({ object: noun, ...segmentJson(segmentRow(k, id, noun)) });

export function listSegments(k: Kernel, q: Query, noun: SegmentNoun) {
  const { has_more, rows } = page<SegmentRow>(
    k,
    (c, limit) =>
      c.before !== undefined
        ? k.sql.exec<SegmentRow>("SELECT * FROM email_segments WHERE seq > ? ORDER BY seq ASC LIMIT ?", c.before, limit).toArray()
        : k.sql.exec<SegmentRow>("SELECT * FROM email_segments WHERE seq < ? ORDER BY seq DESC LIMIT ?", c.after ?? Number.MAX_SAFE_INTEGER, limit).toArray(),
    (id) => k.sql.exec<{ seq: number }>("SELECT seq FROM email_segments WHERE id = ?", id).toArray()[0]?.seq ?? null,
    q,
  );
  // The legacy audiences list never paged.
  return noun === "segment" ? { object: "list", has_more, data: rows.map(segmentJson) } : { object: "list", data: rows.map(segmentJson) };
}

export function deleteSegment(k: Kernel, id: string, noun: SegmentNoun) {
  segmentRow(k, id, noun);
  k.sql.exec("DELETE FROM email_contact_segments WHERE segment_id = ?", id);
  k.sql.exec("DELETE FROM email_segments WHERE id = ?", id);
  return { object: noun, id, deleted: true };
}

// ---- contacts ------------------------------------------------------------------------------

/** A contact by id or by email, as every `/contacts/{id}` route takes either. */
function contactRow(k: Kernel, idOrEmail: string): ContactRow {
  const byEmail = idOrEmail.includes("@");
  const c = k.sql.exec<ContactRow>(`SELECT * FROM email_contacts WHERE ${byEmail ? "email" : "id"} = ?`, byEmail ? idOrEmail.toLowerCase() : idOrEmail).toArray()[0];
  if (!c) throw notFound("Contact");
  return c;
}

/** Custom properties: strings and numbers; null removes one. */
function properties(v: unknown, prior: Record<string, string | number> = {}): Record<string, string | number> {
  if (v === undefined) return prior;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw invalid("Invalid `properties` field. It must be an object.");
  const out = { ...prior };
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) out[key] = value;
    else throw invalid(`Invalid value for property \`${key}\`. It must be a string, a number or null.`);
  }
  return out;
}

function name(b: Body, field: "first_name" | "last_name", prior: string | null): string | null {
  const v = b[field];
  if (v === undefined) return prior;
  if (v !== null && typeof v !== "string") throw invalid(`Invalid \`${field}\` field. It must be a string.`);
  return v === "" ? null : v;
}

function unsubscribed(b: Body, prior: boolean): boolean {
  if (b.unsubscribed === undefined || b.unsubscribed === null) return prior;
  if (typeof b.unsubscribed !== "boolean") throw invalid("Invalid `unsubscribed` field. It must be a boolean.");
  return b.unsubscribed;
}

/** Segment ids of a create: the API documents strings, the SDK sends `{ id }` objects. */
function segmentIds(k: Kernel, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid("Invalid `segments` field. It must be an array of segment ids.");
  return v.map((s) => {
    const id = typeof s === "string" ? s : s && typeof s === "object" && typeof (s as Body).id === "string" ? ((s as Body).id as string) : null;
    if (id === null) throw invalid("Invalid `segments` field. It must be an array of segment ids.");
    return segmentRow(k, id, "segment").id;
  });
}

const propertiesJson = (text: string) =>
  Object.fromEntries(Object.entries(JSON.parse(text) as Record<string, string | number>).map(([key, value]) => [key, { type: typeof value === "number" ? "number" : "string", value }]));

const contactJson = (c: ContactRow) => ({
  id: c.id,
  email: c.email,
  first_name: c.first_name,
  last_name: c.last_name,
  created_at: resendTime(c.created_at),
  unsubscribed: !!c.unsubscribed,
});

function join(k: Kernel, contactId: string, segmentId: string): void {
  k.sql.exec(
    "INSERT OR IGNORE INTO email_contact_segments (contact_id, segment_id, seq, created_at) SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ? FROM email_contact_segments",
    contactId, segmentId, k.clock.now(),
  );
}

/** Resend's contact.* webhook payload: ISO times, the contact's segments. */
function emitContactEvent(k: Kernel, type: string, c: ContactRow): void {
  const targets = k.endpoints.subscribers("email", type);
  if (targets.length === 0) return;
  const segmentsOf = k.sql.exec<{ segment_id: string }>("SELECT segment_id FROM email_contact_segments WHERE contact_id = ? ORDER BY seq", c.id).toArray().map((r) => r.segment_id);
  const body = JSON.stringify({
    type,
    created_at: k.clock.iso(),
    data: {
      id: c.id,
      segment_ids: segmentsOf,
      created_at: k.clock.iso(c.created_at),
      updated_at: k.clock.iso(c.updated_at),
      email: c.email,
      ...(c.first_name !== null ? { first_name: c.first_name } : {}),
      ...(c.last_name !== null ? { last_name: c.last_name } : {}),
      unsubscribed: !!c.unsubscribed,
    },
  });
  for (const e of targets) k.outbox.enqueue({ kind: "email", url: e.url, event: type, eventId: `msg_${k.ids.make("", 27)}`, body, secret: e.secret, endpointId: e.id });
}

/**
 * Creates a contact, or answers the one the email already names (Resend does not refuse a
 * duplicate, nor change it): in both cases the segments given are joined.
 */
export function createContact(k: Kernel, b: Body, audienceId?: string) {
  if (b.email === undefined || b.email === null || b.email === "") throw missingField("email");
  if (typeof b.email !== "string" || addressOf(b.email) !== b.email.trim()) throw invalid("Invalid `email` field. It must be a valid email address.");
  if (audienceId !== undefined && (b.segments !== undefined || b.topics !== undefined)) throw invalid("`audience_id` cannot be used together with `segments` or `topics`.");
  const email = b.email.trim().toLowerCase();
  const joins = audienceId !== undefined ? [segmentRow(k, audienceId, "audience").id] : segmentIds(k, b.segments);
  if (Array.isArray(b.topics) && b.topics.length) throw notFound("Topic");
  const existing = k.sql.exec<ContactRow>("SELECT * FROM email_contacts WHERE email = ?", email).toArray()[0];
  if (existing) {
    for (const s of joins) join(k, existing.id, s);
    return { object: "contact", id: existing.id };
  }
  const now = k.clock.now();
  const row: ContactRow = {
    id: k.ids.uuid("contact"),
    seq: nextSeq(k, "email_contacts"),
    email,
    first_name: name(b, "first_name", null),
    last_name: name(b, "last_name", null),
    unsubscribed: unsubscribed(b, false) ? 1 : 0,
    properties: JSON.stringify(properties(b.properties)),
    created_at: now,
    updated_at: now,
  };
  k.sql.exec(
    "INSERT INTO email_contacts (id, seq, email, first_name, last_name, unsubscribed, properties, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    row.id, row.seq, row.email, row.first_name, row.last_name, row.unsubscribed, row.properties, row.created_at, row.updated_at,
  );
  for (const s of joins) join(k, row.id, s);
  emitContactEvent(k, "contact.created", row);
  return { object: "contact", id: row.id };
}

function inAudience(k: Kernel, c: ContactRow, audienceId: string | undefined): ContactRow {
  if (audienceId === undefined) return c;
  segmentRow(k, audienceId, "audience");
  if (!k.sql.exec("SELECT 1 FROM email_contact_segments WHERE contact_id = ? AND segment_id = ?", c.id, audienceId).toArray().length) throw notFound("Contact");
  return c;
}

export function getContact(k: Kernel, idOrEmail: string, audienceId?: string) {
  const c = inAudience(k, contactRow(k, idOrEmail), audienceId);
  return { object: "contact", ...contactJson(c), properties: propertiesJson(c.properties) };
}

export function updateContact(k: Kernel, idOrEmail: string, b: Body, audienceId?: string) {
  const c = inAudience(k, contactRow(k, idOrEmail), audienceId);
  let email = c.email;
  if (b.email !== undefined) {
    if (typeof b.email !== "string" || addressOf(b.email) !== b.email.trim()) throw invalid("Invalid `email` field. It must be a valid email address.");
    email = b.email.trim().toLowerCase();
    const other = k.sql.exec<{ id: string }>("SELECT id FROM email_contacts WHERE email = ? AND id != ?", email, c.id).toArray()[0];
    if (other) throw invalid(`A contact with the email ${email} already exists.`);
  }
  const next: ContactRow = {
    ...c,
    email,
    first_name: name(b, "first_name", c.first_name),
    last_name: name(b, "last_name", c.last_name),
    unsubscribed: unsubscribed(b, !!c.unsubscribed) ? 1 : 0,
    properties: JSON.stringify(properties(b.properties, JSON.parse(c.properties) as Record<string, string | number>)),
    updated_at: k.clock.now(),
  };
  k.sql.exec(
    "UPDATE email_contacts SET email = ?, first_name = ?, last_name = ?, unsubscribed = ?, properties = ?, updated_at = ? WHERE id = ?",
    next.email, next.first_name, next.last_name, next.unsubscribed, next.properties, next.updated_at, c.id,
  );
  emitContactEvent(k, "contact.updated", next);
  return { object: "contact", id: c.id };
}

export function deleteContact(k: Kernel, idOrEmail: string, audienceId?: string) {
  const c = inAudience(k, contactRow(k, idOrEmail), audienceId);
  emitContactEvent(k, "contact.deleted", c);
  k.sql.exec("DELETE FROM email_contact_segments WHERE contact_id = ?", c.id);
  k.sql.exec("DELETE FROM email_contacts WHERE id = ?", c.id);
  return { object: "contact", id: c.id, deleted: true };
}

/** Contacts newest first, all of them or one segment's (`segment_id`, or an audience's). */
export function listContacts(k: Kernel, q: Query & { segment_id?: string }, noun: SegmentNoun = "segment") {
  const segment = q.segment_id;
  if (segment !== undefined) segmentRow(k, segment, noun);
  const from = segment !== undefined ? "email_contacts AS c JOIN email_contact_segments AS m ON m.contact_id = c.id AND m.segment_id = ?" : "email_contacts AS c";
  const args = segment !== undefined ? [segment] : [];
  const { has_more, rows } = page<ContactRow>(
    k,
    (cur, limit) =>
      cur.before !== undefined
        ? k.sql.exec<ContactRow>(`SELECT c.* FROM ${from} WHERE c.seq > ? ORDER BY c.seq ASC LIMIT ?`, ...args, cur.before, limit).toArray()
        : k.sql.exec<ContactRow>(`SELECT c.* FROM ${from} WHERE c.seq < ? ORDER BY c.seq DESC LIMIT ?`, ...args, cur.after ?? Number.MAX_SAFE_INTEGER, limit).toArray(),
    (id) => k.sql.exec<{ seq: number }>("SELECT seq FROM email_contacts WHERE id = ?", id).toArray()[0]?.seq ?? null,
    q,
  );
  return { object: "list", has_more, data: rows.map(contactJson) };
}

// ---- a contact's segments ------------------------------------------------------------------

export function addToSegment(k: Kernel, idOrEmail: string, segmentId: string) {
  const c = contactRow(k, idOrEmail);
  segmentRow(k, segmentId, "segment");
  join(k, c.id, segmentId);
  return { object: "contact_segment", id: segmentId, contact_id: c.id, segment_id: segmentId };
}

export function removeFromSegment(k: Kernel, idOrEmail: string, segmentId: string) {
  const c = contactRow(k, idOrEmail);
  segmentRow(k, segmentId, "segment");
  const gone = k.sql.exec("DELETE FROM email_contact_segments WHERE contact_id = ? AND segment_id = ? RETURNING seq", c.id, segmentId).toArray().length;
  if (!gone) throw notFound("Contact segment");
  return { object: "contact_segment", id: segmentId, contact_id: c.id, segment_id: segmentId, deleted: true };
}

export function listContactSegments(k: Kernel, idOrEmail: string, q: Query) {
  const c = contactRow(k, idOrEmail);
  type Joined = SegmentRow & { joined: number; mseq: number };
  const sel = "SELECT s.id, s.name, s.seq, m.created_at AS joined, m.seq AS mseq FROM email_contact_segments AS m JOIN email_segments AS s ON s.id = m.segment_id WHERE m.contact_id = ?";
  const { has_more, rows } = page<Joined>(
    k,
    (cur, limit) =>
      cur.before !== undefined
        ? k.sql.exec<Joined>(`${sel} AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`, c.id, cur.before, limit).toArray()
        : k.sql.exec<Joined>(`${sel} AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`, c.id, cur.after ?? Number.MAX_SAFE_INTEGER, limit).toArray(),
    (id) => k.sql.exec<{ seq: number }>("SELECT seq FROM email_contact_segments WHERE contact_id = ? AND segment_id = ?", c.id, id).toArray()[0]?.seq ?? null,
    q,
  );
  // `created_at` is when the contact joined the segment.
  return { object: "list", has_more, data: rows.map((s) => ({ id: s.id, name: s.name, created_at: resendTime(s.joined) })) };
}
