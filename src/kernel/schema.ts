// Kernel tables of a run world. Every table is prefixed `kernel_`; vendors own `<kind>_` tables.
import { sqliteTable, text, integer, real, blob, index, primaryKey } from "drizzle-orm/sqlite-core";

/** World facts, clock state and id counters, as key/value rows so one row changes at a time. */
export const meta = sqliteTable("kernel_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** Every piece of scheduled work of every vendor; the DO alarm follows MIN(due_at). */
export const jobs = sqliteTable(
  "kernel_jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    dueAt: integer("due_at").notNull(),
    kind: text("kind").notNull(),
    type: text("type").notNull(),
    ref: text("ref"),
    payload: text("payload").notNull().default("{}"),
  },
  (t) => [index("kernel_jobs_due").on(t.dueAt, t.id), index("kernel_jobs_ref").on(t.ref)],
);

export const chaosRules = sqliteTable("kernel_chaos_rules", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  method: text("method"),
  path: text("path"),
  status: integer("status"),
  latencyMs: integer("latency_ms"),
  rate: real("rate").notNull().default(1),
  times: integer("times"),
  fired: integer("fired").notNull().default(0),
  preset: text("preset"),
  createdAt: integer("created_at").notNull(),
});

/** Webhook endpoints of vendors configured through a dashboard (email, auth): svix scheme. */
export const webhookEndpoints = sqliteTable("kernel_webhook_endpoints", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  url: text("url").notNull(),
  events: text("events"),
  status: text("status").notNull().default("enabled"),
  secret: text("secret").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** The outbox: one row per webhook message, retried on the run clock until it lands or gives up. */
export const deliveries = sqliteTable(
  "kernel_deliveries",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    kind: text("kind").notNull(),
    endpointId: text("endpoint_id"),
    url: text("url").notNull(),
    event: text("event").notNull(),
    eventId: text("event_id").notNull(),
    body: text("body").notNull(),
    contentType: text("content_type").notNull(),
    secret: text("secret").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastError: text("last_error"),
    lastStatus: integer("last_status"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("kernel_deliveries_seq").on(t.seq)],
);

export const deliveryAttempts = sqliteTable(
  "kernel_delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id").notNull(),
    at: integer("at").notNull(),
    status: integer("status"),
    error: text("error"),
    durationMs: real("duration_ms").notNull(),
  },
  (t) => [index("kernel_delivery_attempts_d").on(t.deliveryId)],
);

/** Every outbound email and SMS of every clone, with OTP codes where one was sent. */
export const inbox = sqliteTable(
  "kernel_inbox",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    kind: text("kind").notNull(),
    channel: text("channel").notNull(),
    to: text("to").notNull(),
    from: text("from").notNull(),
    subject: text("subject"),
    text: text("text"),
    html: text("html"),
    code: text("code"),
    ref: text("ref"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("kernel_inbox_seq").on(t.seq)],
);

/** Capped ring of requests; not part of snapshots (history, not world state). */
export const requestLog = sqliteTable("kernel_request_log", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  kind: text("kind").notNull(),
  method: text("method").notNull(),
  path: text("path").notNull(),
  status: integer("status").notNull(),
  durationMs: real("duration_ms").notNull(),
  errorInjected: integer("error_injected").notNull().default(0),
  requestId: text("request_id").notNull(),
});

/** Snapshot catalogue; bundles themselves live in R2. */
export const snapshots = sqliteTable("kernel_snapshots", {
  id: text("id").primaryKey(),
  label: text("label"),
  createdAt: integer("created_at").notNull(),
  sha256: text("sha256").notNull(),
  bytes: integer("bytes").notNull(),
  counts: text("counts").notNull(),
  r2Key: text("r2_key").notNull(),
});

/** Stored responses for Idempotency-Key replays, per vendor. */
export const idempotency = sqliteTable(
  "kernel_idempotency",
  {
    kind: text("kind").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: integer("status").notNull(),
    body: text("body").notNull(),
    headers: text("headers").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.key] })],
);

/** Content-addressed bytes (attachments, later object bodies): stored once, referenced by sha256. */
export const blobs = sqliteTable("kernel_blobs", {
  sha256: text("sha256").primaryKey(),
  size: integer("size").notNull(),
  bytes: blob("bytes", { mode: "buffer" }).notNull(),
});

/**
 * Pieces of large bodies (at most CHUNK_SIZE, under a row's 2 MB cap), addressed by sha256 and
 * kept for the world's life: snapshot bundles reference them instead of carrying them, and
 * `published` says the piece is also in R2 (`worlds/<worldId>/chunks/<sha256>`), where worlds
 * branched from or importing this one's snapshots copy it from.
 */
export const chunks = sqliteTable("kernel_chunks", {
  sha256: text("sha256").primaryKey(),
  bytes: blob("bytes", { mode: "buffer" }).notNull(),
  published: integer("published").notNull().default(0),
});
