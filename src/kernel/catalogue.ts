// A world's snapshots: bundles in R2 under the world's prefix, catalogued in kernel_snapshots.
import { randomBase62 } from "../lib/crypto.ts";
import type { Clock } from "./clock.ts";
import { countBundle, decodeBundle, diffBundles, dumpTables, encodeBundle, type Bundle, type OwnedTable } from "./snapshots.ts";

export interface SnapshotInfo {
  id: string;
  label: string | null;
  createdAt: string;
  sha256: string;
  bytes: number;
  counts: Record<string, Record<string, number>>;
}

type Row = { id: string; label: string | null; created_at: number; sha256: string; bytes: number; counts: string; r2_key: string };

export interface CatalogueDeps {
  ctx: DurableObjectState;
  bucket: R2Bucket;
  tables: OwnedTable[];
  schemaVersion: number;
  identity: () => { worldId: string; runId: string };
  clock: () => Clock;
  /** Runs after everything queued before it (drains, advances): snapshots never interleave with them. */
  serial: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Replaces the world's tables with a bundle's, atomically. */
  load: (bundle: Bundle) => Promise<void>;
  /** Makes bytes the tables only reference readable by other worlds (branches, imports) first. */
  publish: () => Promise<unknown>;
  /** Copies into this world the bytes a bundle only references; a BundleError when they are gone. */
  adopt: (bundle: Bundle) => Promise<void>;
}

export class SnapshotCatalogue {
  constructor(private readonly d: CatalogueDeps) {}

  private row(id: string): Row | null {
    return this.d.ctx.storage.sql.exec<Row>("SELECT * FROM kernel_snapshots WHERE id = ?", id).toArray()[0] ?? null;
  }

  private info(r: Row): SnapshotInfo {
    return { id: r.id, label: r.label, createdAt: new Date(r.created_at).toISOString(), sha256: r.sha256, bytes: r.bytes, counts: JSON.parse(r.counts) };
  }

  private decode(bytes: ArrayBuffer | Uint8Array, deep = false): Promise<Bundle> {
    return decodeBundle(bytes, this.d.schemaVersion, this.d.tables, deep);
  }

  /** The R2 key of a snapshot, for branching another world from it. */
  key(id: string): string | null {
    return this.row(id)?.r2_key ?? null;
  }

  list(): SnapshotInfo[] {
    return this.d.ctx.storage.sql.exec<Row>("SELECT * FROM kernel_snapshots ORDER BY created_at, id").toArray().map((r) => this.info(r));
  }

  get(id: string): SnapshotInfo | null {
    const r = this.row(id);
    return r ? this.info(r) : null;
  }

  private async store(bytes: Uint8Array, manifest: { sha256: string; counts: SnapshotInfo["counts"] }, label: string | null): Promise<SnapshotInfo> {
    const id = `snap_${randomBase62(16)}`;
    const key = `worlds/${this.d.identity().worldId}/${id}.json.gz`;
    await this.d.bucket.put(key, bytes, { customMetadata: { sha256: manifest.sha256 } });
    this.d.ctx.storage.sql.exec(
      "INSERT INTO kernel_snapshots (id, label, created_at, sha256, bytes, counts, r2_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
      id, label, this.d.clock().now(), manifest.sha256, bytes.byteLength, JSON.stringify(manifest.counts), key,
    );
    return this.get(id)!;
  }

  save(label: string | null): Promise<SnapshotInfo> {
    return this.d.serial(async () => {
      await this.d.publish();
      const { lines, counts } = dumpTables(this.d.ctx.storage.sql, this.d.tables);
      const { bytes, manifest } = await encodeBundle(lines, { schemaVersion: this.d.schemaVersion, runId: this.d.identity().runId, worldId: this.d.identity().worldId, createdAt: this.d.clock().iso(), counts });
      return this.store(bytes, manifest, label);
    });
  }

  async bytes(id: string): Promise<ArrayBuffer | null> {
    const r = this.row(id);
    if (!r) return null;
    const obj = await this.d.bucket.get(r.r2_key);
    return obj ? obj.arrayBuffer() : null;
  }

  restore(id: string): Promise<boolean> {
    return this.d.serial(async () => {
      const bytes = await this.bytes(id);
      if (!bytes) return false;
      await this.d.load(await this.decode(bytes));
      return true;
    });
  }

  /** Verifies a downloaded bundle and catalogues it; the world itself is untouched. */
  import(bytes: ArrayBuffer, label: string | null): Promise<SnapshotInfo> {
    return this.d.serial(async () => {
      const bundle = await this.decode(bytes, true);
      // The bytes must outlive the world that wrote them: a restore may come after its teardown.
      await this.d.adopt(bundle);
      return this.store(new Uint8Array(bytes), { sha256: bundle.manifest.sha256, counts: countBundle(bundle, this.d.tables) }, label ?? "imported");
    });
  }

  async remove(id: string): Promise<boolean> {
    const r = this.row(id);
    if (!r) return false;
    await this.d.bucket.delete(r.r2_key);
    this.d.ctx.storage.sql.exec("DELETE FROM kernel_snapshots WHERE id = ?", id);
    return true;
  }

  async diff(a: string, b: string) {
    const [ba, bb] = await Promise.all([this.bytes(a), this.bytes(b)]);
    if (!ba || !bb) return null;
    return diffBundles(await this.decode(ba), await this.decode(bb), this.d.tables);
  }
}
