// Measuring helpers: free ports, an autocannon wrapper with sub-millisecond latencies, statistics.
import http from "node:http";
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
  /** Every 2xx latency, ascending, when asked for (never written to the JSON). */
  latencies?: number[];
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
  /** A fresh body for every request (unique identifiers), instead of `body`. */
  bodyFor?: () => string;
  connections: number;
  /** Seconds measured. */
  duration: number;
  /** Seconds of unrecorded warm-up with the same request first (0 for none). */
  warmup?: number;
  /** Keep every latency in the Measure. */
  keepLatencies?: boolean;
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
    headers: { ...(spec.body !== undefined || spec.bodyFor ? { "content-type": "application/json" } : {}), ...spec.headers },
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.bodyFor ? { setupRequest: (r: Record<string, unknown>) => ({ ...r, body: spec.bodyFor!() }) } : {}),
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
    ...(spec.keepLatencies ? { latencies } : {}),
  };
}

// node:http rather than fetch: undici's fetch adds 1-1.5 ms a request here, which would blur the
// timed admin calls.
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * A JSON request that must answer 2xx; throws with the status and body otherwise. A kept-alive
 * socket the server closed just as we reused it fails with ECONNRESET before anything was
 * processed: that one case is retried on a fresh socket.
 */
export async function call<T = any>(method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  try {
    return await callOnce<T>(method, url, opts, agent);
  } catch (e) {
    if (!/ECONNRESET|EPIPE|socket hang up/.test((e as Error).message)) throw e;
    return callOnce<T>(method, url, opts, false);
  }
}

function callOnce<T>(method: string, url: string, opts: { token?: string; body?: unknown }, agentOpt: http.Agent | false): Promise<T> {
  const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (body) Object.assign(headers, { "content-type": "application/json", "content-length": body.byteLength });
  else if (method !== "GET" && method !== "HEAD") headers["content-length"] = 0;
  return new Promise<T>((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: agentOpt }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => reject(new Error(`${method} ${url}: ${e.message}`)));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new Error(`${method} ${url} answered ${status}: ${text.slice(0, 500)}`));
        try {
          resolve((text ? JSON.parse(text) : null) as T);
        } catch {
          reject(new Error(`${method} ${url} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("error", (e: NodeJS.ErrnoException) => reject(new Error(`${method} ${url}: ${e.code ?? e.name}: ${e.message}`)));
    req.end(body);
  });
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
