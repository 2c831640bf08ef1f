import { sha256HexSync } from "../lib/crypto.ts";

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
