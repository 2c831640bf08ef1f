// Tables of an org's control object (one Durable Object per org), prefixed `ctl_`.
import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

/** A run's registry row. world_id is the key: a run id may be reused once its world is gone. */
export const runs = sqliteTable(
  "ctl_runs",
  {
    worldId: text("world_id").primaryKey(),
    runId: text("run_id").notNull(),
    status: text("status").notNull(),
    seed: text("seed").notNull(),
    kinds: text("kinds").notNull(),
    metadata: text("metadata").notNull().default("{}"),
    clones: text("clones").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
    actor: text("actor").notNull(),
  },
  (t) => [index("ctl_runs_run").on(t.runId, t.status), index("ctl_runs_expiry").on(t.status, t.expiresAt)],
);

export const audit = sqliteTable("ctl_audit", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  runId: text("run_id").notNull(),
  detail: text("detail"),
});

/** RSA-2048 keys made ahead of time, so a spawn never waits on key generation. */
export const keyPool = sqliteTable("ctl_key_pool", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  privateJwk: text("private_jwk").notNull(),
  publicPem: text("public_pem").notNull(),
});

/** A long-lived clone endpoint registered by the org (BYOC): checked on the alarm, never spawned. */
export const fleet = sqliteTable("ctl_fleet", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  apiUrl: text("api_url").notNull(),
  adminUrl: text("admin_url").notNull(),
  adminToken: text("admin_token").notNull(),
  labels: text("labels").notNull().default("{}"),
  createdAt: integer("created_at").notNull(),
  checkedAt: integer("checked_at"),
  healthy: integer("healthy"),
  latencyMs: integer("latency_ms"),
  lastError: text("last_error"),
});

/** A world snapshot across several endpoints: one snapshot id per component, restored together. */
export const worlds = sqliteTable("ctl_worlds", {
  id: text("id").primaryKey(),
  label: text("label"),
  createdAt: integer("created_at").notNull(),
  refs: text("refs").notNull(),
});

/** API keys the org made itself (dashboard settings, /v1/keys): stored by SHA-256, shown once. */
export const apiKeys = sqliteTable("ctl_api_keys", {
  id: text("id").primaryKey(),
  hash: text("hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  label: text("label").notNull(),
  scope: text("scope").notNull(),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
  revokedAt: integer("revoked_at"),
});

/** Org-private presets: a world saved from a run (its snapshot bundle in R2) plus its chaos rules. */
export const presets = sqliteTable("ctl_presets", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  kinds: text("kinds").notNull(),
  chaos: text("chaos").notNull().default("[]"),
  bundleKey: text("bundle_key").notNull(),
  bytes: integer("bytes").notNull(),
  source: text("source"),
  createdAt: integer("created_at").notNull(),
});
