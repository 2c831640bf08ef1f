// Applies drizzle-kit migration sets to a world: the kernel's and one per vendor. drizzle's own
// durable-sqlite migrator keeps a single journal per database (it compares timestamps in one
// table), which cannot hold several independent sets, so applied tags are kept per set here.
import kernelSet from "../../migrations/kernel/migrations.js";

export type MigrationSet = typeof kernelSet;

export const KERNEL_MIGRATIONS: MigrationSet = kernelSet;

/** Applies what `sets` hold and the world lacks; the caller provides the transaction. */
export function applyMigrations(sql: SqlStorage, sets: [string, MigrationSet][]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _molar_migrations (set_name TEXT NOT NULL, tag TEXT NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (set_name, tag))");
  const applied = new Set(sql.exec<{ k: string }>("SELECT set_name || '/' || tag AS k FROM _molar_migrations").toArray().map((r) => r.k));
  for (const [name, set] of sets) {
    for (const entry of set.journal.entries) {
      if (applied.has(`${name}/${entry.tag}`)) continue;
      const text = set.migrations[`m${String(entry.idx).padStart(4, "0")}`];
      if (text === undefined) throw new Error(`migration ${name}/${entry.tag} is missing from its set`);
      for (const stmt of text.split("--> statement-breakpoint")) if (stmt.trim()) sql.exec(stmt);
      sql.exec("INSERT INTO _molar_migrations (set_name, tag, applied_at) VALUES (?, ?, ?)", name, entry.tag, Date.now());
    }
  }
}

/** The schema's version as bundles record it: every migration of every set, counted. */
export function schemaVersionOf(sets: [string, MigrationSet][]): number {
  return sets.reduce((n, [, s]) => n + s.journal.entries.length, 0);
}
