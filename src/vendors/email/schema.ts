// Tables of the email clone (Resend API), prefixed `email_`.
import { sqliteTable, text, integer, index, primaryKey } from "drizzle-orm/sqlite-core";

export const emails = sqliteTable(
  "email_emails",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    createdAt: integer("created_at").notNull(),
    from: text("from").notNull(),
    to: text("to").notNull(),
    cc: text("cc"),
    bcc: text("bcc"),
    replyTo: text("reply_to"),
    subject: text("subject").notNull(),
    html: text("html"),
    text: text("text"),
    headers: text("headers"),
    tags: text("tags"),
    attachments: text("attachments"),
    scheduledAt: integer("scheduled_at"),
    lastEvent: text("last_event").notNull(),
    messageId: text("message_id").notNull(),
  },
  (t) => [index("email_emails_seq").on(t.seq)],
);

export const domains = sqliteTable("email_domains", {
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  name: text("name").notNull().unique(),
  status: text("status").notNull(),
  region: text("region").notNull(),
  openTracking: integer("open_tracking", { mode: "boolean" }).notNull().default(false),
  clickTracking: integer("click_tracking", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
});

export const apiKeys = sqliteTable("email_api_keys", {
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  name: text("name").notNull(),
  permission: text("permission").notNull(),
  domainId: text("domain_id"),
  tokenHash: text("token_hash").notNull(),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
});

// Contacts are global to the team (Resend's segments replaced per-audience contacts); an email
// names at most one contact.
export const contacts = sqliteTable(
  "email_contacts",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    email: text("email").notNull().unique(),
    firstName: text("first_name"),
    lastName: text("last_name"),
    unsubscribed: integer("unsubscribed", { mode: "boolean" }).notNull().default(false),
    properties: text("properties").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("email_contacts_seq").on(t.seq)],
);

// Segments, and the legacy audiences the API still serves as the same rows.
export const segments = sqliteTable("email_segments", {
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const contactSegments = sqliteTable(
  "email_contact_segments",
  {
    contactId: text("contact_id").notNull(),
    segmentId: text("segment_id").notNull(),
    seq: integer("seq").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.segmentId] }), index("email_contact_segments_segment").on(t.segmentId, t.seq)],
);

// Templates: the draft being edited and the version last published (what sends use), as JSON.
export const templates = sqliteTable(
  "email_templates",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    name: text("name").notNull(),
    alias: text("alias").unique(),
    draft: text("draft").notNull(),
    published: text("published"),
    publishedAt: integer("published_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("email_templates_seq").on(t.seq)],
);

// Broadcasts: a message to a segment's subscribed contacts, kept as a draft, scheduled or sent.
export const broadcasts = sqliteTable(
  "email_broadcasts",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    data: text("data").notNull(),
    status: text("status").notNull(),
    createdAt: integer("created_at").notNull(),
    scheduledAt: integer("scheduled_at"),
    sentAt: integer("sent_at"),
  },
  (t) => [index("email_broadcasts_seq").on(t.seq)],
);
