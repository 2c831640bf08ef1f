import { hex, sha256HexSync } from "../lib/crypto.ts";

/** Content-addressed bytes: the same attachment stored twice is one row, referenced by sha256. */
export class Blobs {
  constructor(private readonly sql: SqlStorage) {}

  put(bytes: Uint8Array): string {
    const sha = sha256HexSync(bytes);
    this.sql.exec("INSERT OR IGNORE INTO kernel_blobs (sha256, size, bytes) VALUES (?, ?, ?)", sha, bytes.byteLength, bytes);
    return sha;
  }

  get(sha: string): Uint8Array | null {
    const row = this.sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM kernel_blobs WHERE sha256 = ?", sha).toArray()[0];
    return row ? new Uint8Array(row.bytes) : null;
  }
}

/** The most bytes one chunk holds: SQLite rows stay under Durable Objects' 2 MB cap. */
export const CHUNK_SIZE = 1024 * 1024;

/** Where a world's published chunks live in R2 (deleted with the world, as its other bytes are). */
const r2Key = (worldId: string, sha: string) => `worlds/${worldId}/chunks/${sha}`;

/** How stored rows name a piece: `chunk:<worldId>/<sha256>`, the world that wrote it first. */
export const chunkRef = (worldId: string, sha: string) => `chunk:${worldId}/${sha}`;
const CHUNK_REF = /chunk:([A-Za-z0-9_-]+)\/([0-9a-f]{64})/g;

/** The pieces `text` names, as sha256 → the worlds named as their writers. */
export function chunkRefsIn(text: string, into = new Map<string, Set<string>>()): Map<string, Set<string>> {
  if (!text.includes("chunk:")) return into;
  for (const m of text.matchAll(CHUNK_REF)) {
    let from = into.get(m[2]);
    if (!from) into.set(m[2], (from = new Set()));
    from.add(m[1]);
  }
  return into;
}

/**
 * Large bodies, stored as they arrive in content-addressed pieces in the world's own SQLite
 * (`kernel_chunks`), never rewritten and kept for the world's life, so snapshots only reference
 * them. Miniflare's local R2 took ~0.8 s for 16 MiB where these rows take ~50 ms. Snapshots
 * publish the pieces to R2 (`worlds/<worldId>/chunks/<sha256>`), from where a world branched from
 * the snapshot, or importing its bundle, copies them into its own table (adopt), so the bytes
 * outlive the run that wrote them.
 *
 * A piece is written outside the request's transaction (the body is still arriving); the upload
 * that first wrote it owns it until it settles, and a failed upload deletes what it still owns.
 * Another upload that meets the same piece takes it out of that ownership, so a piece someone
 * else may reference is never deleted.
 */
export class Chunks {
  private readonly owners = new Map<string, object>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly bucket: R2Bucket,
    private readonly worldId: () => string,
  ) {}

  /** Stores `bytes` (at most CHUNK_SIZE) for `owner` (one upload); answers its sha256. */
  async put(bytes: Uint8Array, owner: object): Promise<string> {
    const sha = hex(await crypto.subtle.digest("SHA-256", bytes));
    const written = this.sql.exec("INSERT OR IGNORE INTO kernel_chunks (sha256, bytes) VALUES (?, ?)", sha, bytes).rowsWritten > 0;
    if (written) this.owners.set(sha, owner);
    else this.owners.delete(sha);
    return sha;
  }

  /** Ends `owner`'s hold on `shas`; when its upload `failed`, the pieces only it wrote are deleted. */
  settle(owner: object, shas: Iterable<string>, failed: boolean): void {
    for (const sha of shas) {
      if (this.owners.get(sha) !== owner) continue;
      this.owners.delete(sha);
      if (failed) this.sql.exec("DELETE FROM kernel_chunks WHERE sha256 = ?", sha);
    }
  }

  /** A piece from this world's table, or null. */
  local(sha: string): Uint8Array | null {
    const row = this.sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM kernel_chunks WHERE sha256 = ?", sha).toArray()[0];
    return row ? new Uint8Array(row.bytes) : null;
  }

  /** A piece written by world `from`: from this world's table, else from R2 (published by `from`); null when gone. */
  async get(from: string, sha: string): Promise<Uint8Array | null> {
    const own = this.local(sha);
    if (own) return own;
    const obj = await this.bucket.get(r2Key(from, sha));
    return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
  }

  /**
   * Copies into this world's table every piece in `refs` it lacks, from R2 under the worlds named
   * as their writers or under `alsoFrom` (the world whose snapshot names them, which published
   * them). A branch or an imported bundle then keeps its bodies when those worlds are torn down.
   * Answers how many pieces are nowhere to be found.
   */
  async adopt(refs: Map<string, Set<string>>, alsoFrom: string | null): Promise<number> {
    const shas = [...refs.keys()];
    const have = new Set<string>();
    for (let i = 0; i < shas.length; i += 500) {
      const rows = this.sql.exec<{ sha256: string }>("SELECT sha256 FROM kernel_chunks WHERE sha256 IN (SELECT value FROM json_each(?))", JSON.stringify(shas.slice(i, i + 500))).toArray();
      for (const r of rows) have.add(r.sha256);
    }
    const wanted = shas.filter((s) => !have.has(s));
    let missing = 0;
    // A few at a time: each piece is up to a MiB in memory.
    for (let i = 0; i < wanted.length; i += 4) {
      await Promise.all(
        wanted.slice(i, i + 4).map(async (sha) => {
          for (const from of new Set([...refs.get(sha)!, ...(alsoFrom ? [alsoFrom] : [])])) {
            const obj = await this.bucket.get(r2Key(from, sha));
            if (!obj) continue;
            this.sql.exec("INSERT OR IGNORE INTO kernel_chunks (sha256, bytes, published) VALUES (?, ?, 0)", sha, new Uint8Array(await obj.arrayBuffer()));
            return;
          }
          missing++;
        }),
      );
    }
    return missing;
  }

  /** Copies every piece not yet in R2 there (before a snapshot is written), a few at a time. */
  async publish(): Promise<number> {
    let n = 0;
    for (;;) {
      const rows = this.sql.exec<{ sha256: string }>("SELECT sha256 FROM kernel_chunks WHERE published = 0 LIMIT 8").toArray();
      if (rows.length === 0) return n;
      await Promise.all(
        rows.map(async ({ sha256 }) => {
          const bytes = this.local(sha256);
          if (bytes) await this.bucket.put(r2Key(this.worldId(), sha256), bytes);
        }),
      );
      for (const { sha256 } of rows) this.sql.exec("UPDATE kernel_chunks SET published = 1 WHERE sha256 = ?", sha256);
      n += rows.length;
    }
  }
}
