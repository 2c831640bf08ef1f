import { hex } from "../lib/crypto.ts";
import type { DeclaredTable } from "./types.ts";

/**
 * A bundle is gzip of text lines:
 *
 *   <manifest JSON>                                   format, version, schemaVersion, sha256, counts
 *   {"table":"<name>","columns":[...],"blob":[...],"rows":N}
 *   [<row values>]                                    N lines, one JSON array per row, blobs as hex
 *   ...                                               (the next table)
 *
 * The sha256 covers every byte after the manifest's newline, exactly as stored. JSON never holds a
 * raw newline, so lines split safely. Rows are written and compared as SQLite's own json_array()
 * text: a snapshot never walks a row value by value in JS, and a restore touches only the rows
 * that differ from the live world.
 */
export const BUNDLE_FORMAT = "molar-clones/snapshot";
export const BUNDLE_VERSION = 1;

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

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  schemaVersion: number;
  runId: string;
  /** The world that wrote the bundle (absent from bundles written before it was recorded): large bodies it names were published under its prefix. */
  worldId?: string;
  createdAt: string;
  sha256: string;
  counts: Record<string, Record<string, number>>;
}

/** One table of a bundle: its columns and its rows as JSON array text, one string a row. */
export interface TableLines {
  columns: string[];
  blob: string[];
  rows: string[];
}

export interface Bundle {
  manifest: Manifest;
  tables: Map<string, TableLines>;
}

export class BundleError extends Error {}

const enc = new TextEncoder();
const sha256Of = async (bytes: Uint8Array) => hex(await crypto.subtle.digest("SHA-256", bytes));

// Fed a MiB at a time: a Blob of the whole input stops at 128 MiB in workerd, and a world of
// 3,000 subscriptions renewed three times already dumps to 400 MB.
const PIPE_CHUNK = 1 << 20;

async function pipeBytes(bytes: Uint8Array | ArrayBuffer, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let at = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= all.byteLength) return c.close();
      c.enqueue(all.subarray(at, (at += PIPE_CHUNK)));
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(stream)).arrayBuffer());
}

interface Shape {
  columns: string[];
  blob: string[];
  /** json_array(...) over the columns, blobs as hex, in column order. */
  rowExpr: string;
}

function shapeOf(sql: SqlStorage, table: string): Shape {
  const info = sql.exec<{ name: string; type: string }>(`PRAGMA table_info("${table}")`).toArray();
  const columns = info.map((c) => c.name);
  const blob = info.filter((c) => /BLOB/i.test(c.type)).map((c) => c.name);
  const rowExpr = `json_array(${info.map((c) => (blob.includes(c.name) ? `CASE WHEN "${c.name}" IS NULL THEN NULL ELSE hex("${c.name}") END` : `"${c.name}"`)).join(", ")})`;
  return { columns, blob, rowExpr };
}

/** Every declared table as bundle lines, and the resource counts. */
export function dumpTables(sql: SqlStorage, tables: OwnedTable[]): { lines: string[]; counts: Manifest["counts"] } {
  const parts: string[] = [];
  const counts: Manifest["counts"] = {};
  for (const t of tables) {
    const shape = shapeOf(sql, t.name);
    const rows: string[] = [];
    for (const r of sql.exec(`SELECT ${shape.rowExpr} FROM "${t.name}"`).raw()) rows.push(r[0] as string);
    parts.push(JSON.stringify({ table: t.name, columns: shape.columns, blob: shape.blob, rows: rows.length }));
    for (const r of rows) parts.push(r);
    if (t.type) (counts[t.kind] ??= {})[t.type] = rows.length;
  }
  return { lines: parts, counts };
}

// Lines are joined and encoded this many characters at a time: one string of a whole world stops
// at V8's 512 MiB limit, and the bytes are hashed and compressed piece by piece anyway.
const ENCODE_CHUNK = 8 << 20;

function encodedPieces(lines: string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: string[] = [];
  let size = 0;
  lines.forEach((line, i) => {
    batch.push(i < lines.length - 1 ? line + "\n" : line);
    size += line.length + 1;
    if (size >= ENCODE_CHUNK) {
      out.push(enc.encode(batch.join("")));
      batch = [];
      size = 0;
    }
  });
  if (batch.length) out.push(enc.encode(batch.join("")));
  return out;
}

export async function encodeBundle(
  lines: string[],
  info: { schemaVersion: number; runId: string; worldId?: string; createdAt: string; counts: Manifest["counts"] },
): Promise<{ bytes: Uint8Array; manifest: Manifest }> {
  const pieces = encodedPieces(lines);
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  for (const p of pieces) await writer.write(p);
  await writer.close();
  const manifest: Manifest = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, ...info, sha256: hex(await digest.digest) };
  const all = [enc.encode(`${JSON.stringify(manifest)}\n`), ...pieces];
  let i = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < all.length) c.enqueue(all[i++]);
      else c.close();
    },
  });
  return { bytes: new Uint8Array(await new Response(source.pipeThrough(new CompressionStream("gzip"))).arrayBuffer()), manifest };
}

/**
 * Opens a bundle and proves it ours and intact; anything else is a BundleError (a 422). `deep`
 * also parses every row (imports: a foreign bundle is refused before it is catalogued).
 */
export async function decodeBundle(bytes: Uint8Array | ArrayBuffer, schemaVersion: number, known: OwnedTable[], deep = false): Promise<Bundle> {
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
    m = JSON.parse(utf8.decode(nl < 0 ? raw : raw.subarray(0, nl))) as Partial<Manifest>;
  } catch {
    m = null;
  }
  if (!m || typeof m !== "object" || m.format !== BUNDLE_FORMAT || m.version !== BUNDLE_VERSION) {
    throw new BundleError("The bundle is not a Molar Clones snapshot (missing or foreign manifest).");
  }
  if (typeof m.schemaVersion !== "number" || m.schemaVersion > schemaVersion) {
    throw new BundleError(`The bundle was written by a newer schema (${m.schemaVersion} > ${schemaVersion}).`);
  }
  const data = nl < 0 ? new Uint8Array(0) : raw.subarray(nl + 1);
  if ((await sha256Of(data)) !== m.sha256) throw new BundleError("The bundle's sha256 does not match its manifest: it is corrupt.");
  // Decoded a few MiB of whole lines at a time: one string of a big world passes V8's limit.
  const lines: string[] = [];
  for (let at = 0; at < data.length; ) {
    let end = Math.min(data.length, at + ENCODE_CHUNK);
    if (end < data.length) {
      const nl = data.indexOf(0x0a, end);
      end = nl < 0 ? data.length : nl;
    }
    let piece: string;
    try {
      piece = utf8.decode(data.subarray(at, end));
    } catch {
      throw new BundleError("The bundle's data is not UTF-8.");
    }
    for (const line of piece.split("\n")) lines.push(line);
    at = end + 1;
  }
  const names = new Set(known.map((t) => t.name));
  const tables = new Map<string, TableLines>();
  for (let i = 0; i < lines.length; ) {
    let head: { table?: unknown; columns?: unknown; blob?: unknown; rows?: unknown };
    try {
      head = JSON.parse(lines[i]);
    } catch {
      throw new BundleError(`Line ${i + 2} of the bundle should open a table.`);
    }
    const { table, columns, blob, rows } = head;
    if (typeof table !== "string" || !names.has(table)) throw new BundleError(`The bundle holds a table this schema does not know: ${String(table)}.`);
    if (!isStrings(columns) || !isStrings(blob) || typeof rows !== "number" || !Number.isInteger(rows) || rows < 0 || i + 1 + rows > lines.length) {
      throw new BundleError(`The bundle's table ${table} is malformed.`);
    }
    const body = lines.slice(i + 1, i + 1 + rows);
    for (const r of body) {
      if (r[0] !== "[" || r[r.length - 1] !== "]") throw new BundleError(`A row of ${table} is malformed.`);
      if (deep) {
        let v: unknown;
        try {
          v = JSON.parse(r);
        } catch {
          v = null;
        }
        if (!Array.isArray(v) || v.length !== columns.length) throw new BundleError(`A row of ${table} does not have ${columns.length} values.`);
      }
    }
    tables.set(table, { columns, blob, rows: body });
    i += 1 + rows;
  }
  return { manifest: m as Manifest, tables };
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/**
 * Makes every declared table hold exactly the bundle's rows; runs inside one transaction. Only
 * the difference is written: rows the world holds unchanged stay, so a restore costs what changed
 * since the snapshot, not the size of the world. A table whose columns differ from the bundle's
 * (a bundle from an older schema) is replaced whole, its missing columns taking their defaults.
 */
export function loadTables(sql: SqlStorage, tables: OwnedTable[], bundle: Bundle): void {
  for (const t of tables) {
    const want = bundle.tables.get(t.name) ?? { columns: [], blob: [], rows: [] };
    const shape = shapeOf(sql, t.name);
    const sameShape = shape.columns.length === want.columns.length && shape.columns.every((c, i) => c === want.columns[i]);
    if (!sameShape) {
      sql.exec(`DELETE FROM "${t.name}"`);
      insertRows(sql, t.name, shape, want, want.rows);
      continue;
    }
    // A multiset difference on row text: what the world has that the bundle lacks goes, what the
    // bundle has that the world lacks comes.
    const need = new Map<string, number>();
    for (const r of want.rows) need.set(r, (need.get(r) ?? 0) + 1);
    const stale: number[] = [];
    for (const [rowid, r] of sql.exec(`SELECT rowid, ${shape.rowExpr} FROM "${t.name}"`).raw()) {
      const n = need.get(r as string);
      if (n) need.set(r as string, n - 1);
      else stale.push(rowid as number);
    }
    for (let i = 0; i < stale.length; i += 10_000) {
      sql.exec(`DELETE FROM "${t.name}" WHERE rowid IN (SELECT value FROM json_each(?))`, JSON.stringify(stale.slice(i, i + 10_000)));
    }
    const missing: string[] = [];
    for (const r of want.rows) {
      const n = need.get(r);
      if (n) {
        need.set(r, n - 1);
        missing.push(r);
      }
    }
    insertRows(sql, t.name, shape, want, missing);
  }
}

const CHUNK_BYTES = 512_000;

/** Inserts row text through json_each, ~512 KB a statement; a row of the wrong width is refused. */
function insertRows(sql: SqlStorage, table: string, shape: Shape, from: TableLines, rows: string[]): void {
  if (rows.length === 0) return;
  const picks: string[] = [];
  from.columns.forEach((col, idx) => {
    if (!shape.columns.includes(col)) return;
    picks.push(from.blob.includes(col) ? `unhex(value->>${idx})` : `value->>${idx}`);
  });
  const cols = from.columns.filter((c) => shape.columns.includes(c)).map((c) => `"${c}"`).join(", ");
  const width = from.columns.length;
  const stmt = `INSERT INTO "${table}" (${cols}) SELECT ${picks.join(", ")} FROM json_each(?) WHERE json_array_length(value) = ${width}`;
  let chunk: string[] = [];
  let size = 0;
  const flush = () => {
    if (!chunk.length) return;
    let written: number;
    try {
      written = sql.exec(stmt, `[${chunk.join(",")}]`).rowsWritten;
    } catch (e) {
      throw new BundleError(`The rows of ${table} do not fit its schema (${e instanceof Error ? e.message : String(e)}).`);
    }
    if (written < chunk.length) throw new BundleError(`A row of ${table} does not have ${width} values.`);
    chunk = [];
    size = 0;
  };
  for (const r of rows) {
    if (size + r.length > CHUNK_BYTES) flush();
    chunk.push(r);
    size += r.length + 1;
  }
  flush();
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
    const index = (d: TableLines | undefined) => {
      const m = new Map<string, string>();
      if (!d) return m;
      const i = d.columns.indexOf(t.idColumn!);
      for (const r of d.rows) m.set(String((JSON.parse(r) as unknown[])[i]), r);
      return m;
    };
    const ra = index(a.tables.get(t.name));
    const rb = index(b.tables.get(t.name));
    for (const [id, row] of rb) {
      const before = ra.get(id);
      if (before === undefined) out.added.push({ kind: t.kind, type: t.type, id });
      else if (before !== row) out.changed.push({ kind: t.kind, type: t.type, id });
    }
    for (const id of ra.keys()) if (!rb.has(id)) out.removed.push({ kind: t.kind, type: t.type, id });
  }
  return out;
}

/** Resource counts of a bundle, for catalogue rows of imported bundles. */
export function countBundle(bundle: Bundle, tables: OwnedTable[]): Manifest["counts"] {
  const counts: Manifest["counts"] = {};
  for (const t of tables) if (t.type) (counts[t.kind] ??= {})[t.type] = bundle.tables.get(t.name)?.rows.length ?? 0;
  return counts;
}
