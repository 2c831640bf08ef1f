export interface LogEntry {
  at: string;
  kind: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  errorInjected: boolean;
  requestId: string;
}

type Row = {
  seq: number;
  at: number;
  kind: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  error_injected: number;
  request_id: string;
};

export interface LogFilter {
  kind?: string | null;
  status?: number | null;
  path?: string | null;
  errorInjected?: boolean | null;
  limit?: number;
}

const enc = new TextEncoder();
/** The longest LIKE/GLOB pattern workerd's SQLite accepts. */
const MAX_GLOB_BYTES = 50;

/** A long GLOB filter as a RegExp: `*` and `?` as SQLite reads them, everything else literal. */
function globRegExp(glob: string): RegExp {
  const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(`^${glob.split("*").map((part) => part.split("?").map(literal).join("[\\s\\S]")).join("[\\s\\S]*")}$`);
}

/**
 * The request log: a capped ring in SQLite (paths only, never query strings or headers, so no
 * secret reaches it) and live subscribers fed as Server-Sent Events.
 */
export class RequestLog {
  static readonly CAP = 10_000;
  private writes = 0;
  private readonly subscribers = new Set<{ writer: WritableStreamDefaultWriter<Uint8Array>; filter: LogFilter }>();

  constructor(private readonly sql: SqlStorage) {}

  // Entries not yet written. A request that reads nothing but writes its log line pays a commit
  // for it: a 1 KiB S3 GET spent 0.07 ms of its ~0.9 on that. Lines are written together, by
  // FLUSH_AT of them, a timer, or any read of the log; a crash can lose the last FLUSH_MS of lines
  // (the log is not world state: snapshots leave it out).
  private pending: unknown[][] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  static readonly FLUSH_AT = 64;
  static readonly FLUSH_MS = 250;

  /** Logs a request done at `atMs` on the run clock (its ISO time is only made for live tails). */
  record(e: Omit<LogEntry, "at">, atMs: number): void {
    this.pending.push([atMs, e.kind, e.method, e.path, e.status, e.durationMs, e.errorInjected ? 1 : 0, e.requestId]);
    if (this.pending.length >= RequestLog.FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), RequestLog.FLUSH_MS);
    if (this.subscribers.size === 0) return;
    const entry: LogEntry = { at: new Date(atMs).toISOString(), ...e };
    const line = enc.encode(`data: ${JSON.stringify(entry)}\n\n`);
    for (const s of this.subscribers) {
      if (!matches(entry, s.filter)) continue;
      s.writer.write(line).catch(() => this.subscribers.delete(s));
    }
  }

  /** Writes the pending lines; readers of kernel_request_log call it first. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending.length) return;
    const n = this.pending.length;
    const rows = JSON.stringify(this.pending);
    this.pending = [];
    this.sql.exec(
      `INSERT INTO kernel_request_log (at, kind, method, path, status, duration_ms, error_injected, request_id)
       SELECT v ->> 0, v ->> 1, v ->> 2, v ->> 3, v ->> 4, v ->> 5, v ->> 6, v ->> 7 FROM (SELECT value AS v FROM json_each(?) ORDER BY key)`,
      rows,
    );
    // Trimming on every write would double the cost of logging; every 256 lines keeps the ring near its cap.
    const before = this.writes;
    this.writes += n;
    if (Math.floor(this.writes / 256) !== Math.floor(before / 256)) {
      this.sql.exec("DELETE FROM kernel_request_log WHERE seq <= (SELECT MAX(seq) FROM kernel_request_log) - ?", RequestLog.CAP);
    }
  }

  /** Drops the pending lines (the world is being destroyed). */
  discard(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
  }

  list(f: LogFilter): LogEntry[] {
    this.flush();
    const glob = f.path ? (f.path.includes("*") ? f.path : f.path + "*") : null;
    // workerd refuses GLOB patterns over 50 bytes (a full Twilio path is longer): such a filter
    // narrows by its literal prefix in SQL and matches the rest here, over the capped ring.
    const long = glob !== null && enc.encode(glob).length > MAX_GLOB_BYTES;
    const limit = f.limit ?? RequestLog.CAP;
    const rows = this.sql
      .exec<Row>(
        `SELECT * FROM (SELECT * FROM kernel_request_log
           WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR path GLOB ?3) AND (?4 IS NULL OR error_injected = ?4)
           AND (?6 IS NULL OR substr(path, 1, length(?6)) = ?6)
           ORDER BY seq DESC LIMIT ?5) ORDER BY seq`,
        f.kind ?? null,
        f.status ?? null,
        long ? null : glob,
        f.errorInjected === null || f.errorInjected === undefined ? null : f.errorInjected ? 1 : 0,
        long ? RequestLog.CAP : limit,
        long ? glob!.replace(/[*?].*$/, "") : null,
      )
      .toArray();
    if (long) {
      const re = globRegExp(glob!);
      return rows.filter((r) => re.test(r.path)).slice(-limit).map(toEntry);
    }
    return rows.map(toEntry);
  }

  /** A live SSE stream of entries matching `filter`; ends when the client goes away. */
  stream(filter: LogFilter): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const sub = { writer, filter };
    this.subscribers.add(sub);
    writer.write(enc.encode(": connected\n\n")).catch(() => this.subscribers.delete(sub));
    writer.closed.catch(() => undefined).finally(() => this.subscribers.delete(sub));
    return readable;
  }

  closeAll(): void {
    for (const s of this.subscribers) s.writer.close().catch(() => undefined);
    this.subscribers.clear();
  }
}

function matches(e: LogEntry, f: LogFilter): boolean {
  if (f.kind && e.kind !== f.kind) return false;
  if (f.status && e.status !== f.status) return false;
  if (f.path && !e.path.startsWith(f.path.replace(/\*.*$/, ""))) return false;
  if (f.errorInjected !== null && f.errorInjected !== undefined && e.errorInjected !== f.errorInjected) return false;
  return true;
}

function toEntry(r: Row): LogEntry {
  return {
    at: new Date(r.at).toISOString(),
    kind: r.kind,
    method: r.method,
    path: r.path,
    status: r.status,
    durationMs: r.duration_ms,
    errorInjected: r.error_injected === 1,
    requestId: r.request_id,
  };
}
