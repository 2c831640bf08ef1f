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
