import { sha256Hex } from "../lib/crypto.ts";

/** Content-addressed bytes: the same attachment stored twice is one row, referenced by sha256. */
export class Blobs {
  constructor(private readonly sql: SqlStorage) {}

  async put(bytes: Uint8Array): Promise<string> {
    const sha = await sha256Hex(bytes);
    this.sql.exec("INSERT OR IGNORE INTO kernel_blobs (sha256, size, bytes) VALUES (?, ?, ?)", sha, bytes.byteLength, bytes);
    return sha;
  }

  get(sha: string): Uint8Array | null {
    const row = this.sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM kernel_blobs WHERE sha256 = ?", sha).toArray()[0];
    return row ? new Uint8Array(row.bytes) : null;
  }
}
