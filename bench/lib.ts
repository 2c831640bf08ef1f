// Measuring helpers: free ports, an autocannon wrapper with sub-millisecond latencies, statistics.
import net from "node:net";
import autocannon from "autocannon";

/** What one measured scenario yields. Latencies in ms; `rps` counts 2xx answers only. */
export interface Measure {
  p50: number | null;
  p99: number | null;
  rps: number | null;
  /** 2xx answers (or timed operations). */
  ok?: number;
  /** Transport errors and timeouts. */
  errors: number;
  /** Answers outside 2xx. */
  non2xx: number;
  connections?: number;
  durationS?: number;
  statusCodes?: Record<string, number>;
  /** Up to a few non-2xx answers, for the report. */
  samples?: string[];
  extra?: Record<string, unknown>;
}

/** Distinct free ports on `host`, found by listening on port 0 (all held open until every one is known). */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, host, () => resolve());
      });
      ports.push((s.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** The q-quantile (0..1) of ascending `sorted`, nearest-rank. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds measured. */
  duration: number;
  /** Seconds of unrecorded warm-up with the same request first (0 for none). */
  warmup?: number;
}

/**
 * One autocannon run. Autocannon's own latency histogram has 1 ms resolution, too coarse for
 * sub-millisecond targets, so latencies come from its per-response `response` events (floats).
 */
export async function load(spec: LoadSpec): Promise<Measure> {
  const u = new URL(spec.url);
  const samples: string[] = [];
  const request = {
    method: spec.method ?? "GET",
    path: u.pathname + u.search,
    headers: { ...(spec.body !== undefined ? { "content-type": "application/json" } : {}), ...spec.headers },
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    onResponse: (status: number, body: string) => {
      if ((status < 200 || status >= 300) && samples.length < 3) samples.push(`${status} ${body.slice(0, 300)}`);
    },
  };
  const opts = { url: u.origin, requests: [request], connections: spec.connections, pipelining: 1, timeout: 10 };
  if (spec.warmup) await autocannon({ ...opts, duration: spec.warmup });
  samples.length = 0;
  const latencies: number[] = [];
  const inst = autocannon({ ...opts, duration: spec.duration });
  inst.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const r = await inst;
  latencies.sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = v.count;
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    rps: r.duration > 0 ? r["2xx"] / r.duration : null,
    ok: r["2xx"],
    errors: r.errors,
    non2xx: r.non2xx,
    connections: spec.connections,
    durationS: r.duration,
    statusCodes,
    samples,
  };
}

/** A JSON request that must answer 2xx; throws with the status and body otherwise. */
export async function call<T = any>(method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { "content-type": "application/json" } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    text = await res.text();
  } catch (e) {
    const cause = e instanceof Error && e.cause ? ` (${e.cause instanceof Error ? `${(e.cause as NodeJS.ErrnoException).code ?? e.cause.name}: ${e.cause.message}` : String(e.cause)})` : "";
    throw new Error(`${method} ${url}: ${e instanceof Error ? e.message : String(e)}${cause}`);
  }
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
