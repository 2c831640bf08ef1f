import { hex } from "../lib/crypto.ts";
import type { DeclaredTable } from "./types.ts";

/**
 * A bundle is gzip(<manifest JSON> "\n" <data JSON>): the manifest's sha256 covers the data bytes
 * exactly as stored, so checking it needs no re-serialisation.
 */
export const BUNDLE_FORMAT = "molar-clones/snapshot";

const enc = new TextEncoder();
const sha256Of = async (bytes: Uint8Array) => hex(await crypto.subtle.digest("SHA-256", bytes));

/** Kernel tables that are world state (the request log and the snapshot catalogue are not). */
export const KERNEL_TABLES: DeclaredTable[] = [
  { name: "kernel_meta" },
  { name: "kernel_jobs" },
  { name: "kernel_chaos_rules", type: "chaos_rule", idColumn: "id" },
  { name: "kernel_webhook_endpoints", type: "webhook_endpoint", idColumn: "id" },
  { name: "kernel_deliveries", type: "webhook_delivery", idColumn: "id" },
  { name: "kernel_delivery_attempts" },
  { name: "kernel_inbox", type: "inbox_message", idColumn: "id" },
  { name: "kernel_idempotency" },
  { name: "kernel_blobs" },
];

export interface OwnedTable extends DeclaredTable {
  kind: string;
}

export interface TableDump {
  columns: string[];
  blobColumns: string[];
  rows: unknown[][];
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  schemaVersion: number;
  runId: string;
  createdAt: string;
  sha256: string;
  counts: Record<string, Record<string, number>>;
}

export interface Bundle {
  manifest: Manifest;
  data: Record<string, TableDump>;
}

export class BundleError extends Error {}

async function pipeBytes(bytes: Uint8Array | ArrayBuffer, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

/** Dumps every declared table in one read; blobs travel as hex. */
export function dumpTables(sql: SqlStorage, tables: OwnedTable[]): Record<string, TableDump> {
  const data: Record<string, TableDump> = {};
  for (const t of tables) {
    const cursor = sql.exec(`SELECT * FROM "${t.name}"`);
    const columns = cursor.columnNames;
    const blobIdx = new Set<number>();
    const rows = Array.from(cursor.raw()) as unknown[][];
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        const v = row[i];
        if (v instanceof ArrayBuffer) {
          blobIdx.add(i);
          row[i] = hex(v);
        }
      }
    }
    data[t.name] = { columns, blobColumns: [...blobIdx].map((i) => columns[i]), rows };
  }
  return data;
}

export function countResources(data: Record<string, TableDump>, tables: OwnedTable[]): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const t of tables) {
    if (!t.type) continue;
    (counts[t.kind] ??= {})[t.type] = data[t.name]?.rows.length ?? 0;
  }
  return counts;
}

export async function encodeBundle(
  data: Record<string, TableDump>,
  info: { schemaVersion: number; runId: string; createdAt: string; counts: Manifest["counts"] },
): Promise<{ bytes: Uint8Array; manifest: Manifest }> {
  const dataBytes = enc.encode(JSON.stringify(data));
  const manifest: Manifest = { format: BUNDLE_FORMAT, version: 1, ...info, sha256: await sha256Of(dataBytes) };
  const head = enc.encode(`${JSON.stringify(manifest)}\n`);
  const all = new Uint8Array(head.byteLength + dataBytes.byteLength);
  all.set(head);
  all.set(dataBytes, head.byteLength);
  return { bytes: await pipeBytes(all, new CompressionStream("gzip")), manifest };
}

/** Opens a bundle and proves it ours and intact; anything else is a BundleError (a 422). */
export async function decodeBundle(bytes: Uint8Array | ArrayBuffer, schemaVersion: number): Promise<Bundle> {
  let raw: Uint8Array;
  try {
    raw = await pipeBytes(bytes, new DecompressionStream("gzip"));
  } catch {
    throw new BundleError("The bundle is not a gzip-compressed Molar Clones snapshot.");
  }
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const nl = raw.indexOf(0x0a);
  let m: Partial<Manifest> | null = null;
  try {
    m = nl > 0 ? (JSON.parse(utf8.decode(raw.subarray(0, nl))) as Partial<Manifest>) : null;
  } catch {
    m = null;
  }
  if (!m || typeof m !== "object" || m.format !== BUNDLE_FORMAT || m.version !== 1) {
    throw new BundleError("The bundle is not a Molar Clones snapshot (missing or foreign manifest).");
  }
  if (typeof m.schemaVersion !== "number" || m.schemaVersion > schemaVersion) {
    throw new BundleError(`The bundle was written by a newer schema (${m.schemaVersion} > ${schemaVersion}).`);
  }
  const dataBytes = raw.subarray(nl + 1);
  if ((await sha256Of(dataBytes)) !== m.sha256) {
    throw new BundleError("The bundle's sha256 does not match its manifest: it is corrupt.");
  }
  let data: unknown;
  try {
    data = JSON.parse(utf8.decode(dataBytes));
  } catch {
    throw new BundleError("The bundle's data is not JSON.");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new BundleError("The bundle's data is malformed.");
  const b = { manifest: m as Manifest, data: data as Record<string, TableDump> };
  for (const [name, t] of Object.entries(b.data)) {
    if (!/^[a-z0-9_]+$/.test(name) || !Array.isArray(t?.columns) || !Array.isArray(t?.rows) || !Array.isArray(t?.blobColumns)) {
      throw new BundleError(`The bundle's table ${JSON.stringify(name)} is malformed.`);
    }
  }
  return b;
}

/**
 * Replaces every declared table with the bundle's rows. Must run inside one transaction. Rows go
 * in through json_each in chunks: one statement per ~256 KB instead of one per row.
 */
export function loadTables(sql: SqlStorage, tables: OwnedTable[], data: Record<string, TableDump>): void {
  const known = new Set(tables.map((t) => t.name));
  for (const name of Object.keys(data)) {
    if (!known.has(name)) throw new BundleError(`The bundle holds a table this schema does not know: ${name}.`);
  }
  for (const t of tables) {
    sql.exec(`DELETE FROM "${t.name}"`);
    const dump = data[t.name];
    if (!dump || dump.rows.length === 0) continue;
    const current = new Set(sql.exec(`PRAGMA table_info("${t.name}")`).toArray().map((r) => String(r.name)));
    const picks: { col: string; idx: number; blob: boolean }[] = [];
    dump.columns.forEach((col, idx) => {
      if (current.has(col)) picks.push({ col, idx, blob: dump.blobColumns.includes(col) });
    });
    const cols = picks.map((p) => `"${p.col}"`).join(", ");
    const exprs = picks.map((p) => (p.blob ? `unhex(value->>${p.idx})` : `value->>${p.idx}`)).join(", ");
    const stmt = `INSERT INTO "${t.name}" (${cols}) SELECT ${exprs} FROM json_each(?)`;
    for (const row of dump.rows) {
      if (!Array.isArray(row) || row.length !== dump.columns.length) throw new BundleError(`A row of ${t.name} is malformed.`);
    }
    // Chunks sized from a sample of rows: one JSON.stringify per chunk, not per row.
    const sample = dump.rows.slice(0, 32);
    const avg = Math.max(1, JSON.stringify(sample).length / sample.length);
    const per = Math.max(1, Math.floor(CHUNK_BYTES / avg));
    for (let i = 0; i < dump.rows.length; i += per) insertChunk(sql, stmt, dump.rows.slice(i, i + per));
  }
}

const CHUNK_BYTES = 256_000;
// A bound value must stay under SQLite's 2 MB: a chunk that came out larger is halved.
const MAX_VALUE_BYTES = 1_800_000;

function insertChunk(sql: SqlStorage, stmt: string, rows: unknown[][]): void {
  const json = JSON.stringify(rows);
  if (json.length > MAX_VALUE_BYTES && rows.length > 1) {
    const mid = rows.length >> 1;
    insertChunk(sql, stmt, rows.slice(0, mid));
    insertChunk(sql, stmt, rows.slice(mid));
    return;
  }
  sql.exec(stmt, json);
}

export interface DiffEntry {
  kind: string;
  type: string;
  id: string;
}

/** Resources added, removed and changed from bundle `a` to bundle `b`. */
export function diffBundles(a: Bundle, b: Bundle, tables: OwnedTable[]): { added: DiffEntry[]; removed: DiffEntry[]; changed: DiffEntry[] } {
  const out = { added: [] as DiffEntry[], removed: [] as DiffEntry[], changed: [] as DiffEntry[] };
  for (const t of tables) {
    if (!t.type || !t.idColumn) continue;
    const index = (d: TableDump | undefined) => {
      const m = new Map<string, string>();
      if (!d) return m;
      const i = d.columns.indexOf(t.idColumn!);
      for (const r of d.rows) m.set(String(r[i]), JSON.stringify(Object.fromEntries(d.columns.map((c, j) => [c, r[j]]))));
      return m;
    };
    const ra = index(a.data[t.name]);
    const rb = index(b.data[t.name]);
    for (const [id, row] of rb) {
      const before = ra.get(id);
      if (before === undefined) out.added.push({ kind: t.kind, type: t.type, id });
      else if (before !== row) out.changed.push({ kind: t.kind, type: t.type, id });
    }
    for (const id of ra.keys()) if (!rb.has(id)) out.removed.push({ kind: t.kind, type: t.type, id });
  }
  return out;
}
