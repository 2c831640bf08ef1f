// Test helpers: the control API, a webhook receiver on loopback, and small fetch wrappers.
import http from "node:http";
import { afterAll, afterEach, beforeEach, inject } from "vitest";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import Stripe from "stripe";

export const urls = () => inject("urls");

export interface Run {
  runId: string;
  status: string;
  token: string;
  adminUrl: string;
  createdAt: string;
  expiresAt: string;
  clones: Record<string, Record<string, string>>;
  env: Record<string, string>;
}

let n = 0;
export const uniqueId = (p = "t") => `${p}-${process.pid}-${Date.now().toString(36)}-${++n}`;

export async function api(method: string, path: string, key: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${urls().control}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function spawn(body: Record<string, unknown> = {}, key = inject("orgKey")): Promise<Run> {
  const r = await api("POST", "/v1/runs", key, { runId: uniqueId(), ...body });
  if (r.status !== 201) throw new Error(`spawn failed: ${r.status} ${r.text}`);
  return r.json as Run;
}

/** An admin call on a run, authorized by its token. */
export async function admin(run: Run, method: string, path: string, body?: unknown, token = run.token) {
  const res = await fetch(`${run.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !(body instanceof Uint8Array) ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const ct = res.headers.get("content-type") ?? "";
  const raw = ct.includes("gzip") ? new Uint8Array(await res.arrayBuffer()) : null;
  const text = raw ? "" : await res.text();
  let json: any = null;
  try {
    json = text && ct.includes("json") ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, raw, headers: res.headers };
}

export const advance = (run: Run, by: string) => admin(run, "POST", "/clock/advance", { by });

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver on a free loopback port; `fail` answers 500 while set. */
export async function receiver() {
  const got: Received[] = [];
  const state = { fail: false, failures: 0 };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (state.fail) {
        state.failures++;
        res.writeHead(500).end("down");
        return;
      }
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    got,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A `spawn` whose runs end by themselves: a run made inside a test ends with it, one made for a
 * describe block ends with the file (the suite's runs share one org's quota). Call it at the top
 * of a test file; it registers the hooks.
 */
export function endingRuns(): (body?: Record<string, unknown>) => Promise<Run> {
  const made: { run: Run; inTest: boolean }[] = [];
  let inTest = false;
  // Best effort, retried once: a kept-alive socket may have been closed while a test blocked the loop.
  const end = (r: Run) => api("DELETE", `/v1/runs/${r.runId}`, inject("orgKey"));
  const teardown = (runs: Run[]) => Promise.all(runs.map((r) => end(r).catch(() => end(r)).catch(() => undefined)));
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    const done = made.filter((m) => m.inTest);
    made.splice(0, made.length, ...made.filter((m) => !m.inTest));
    await teardown(done.map((m) => m.run));
  });
  afterAll(async () => {
    await teardown(made.map((m) => m.run));
  });
  return async (body = {}) => {
    // Some tests block the event loop for seconds (ajv compiling a spec): a kept-alive control
    // socket the server closed meanwhile fails once, before anything was sent.
    const run = await spawn(body).catch(() => spawn(body));
    made.push({ run, inTest });
    return run;
  };
}

/** For an S3 describe block: a run with an S3 clone, a client for it and a new bucket in it. */
export async function s3Setup(clientOf: (run: Run) => S3Client, bucket: string): Promise<{ run: Run; s3: S3Client; bucket: string }> {
  const run = await spawn({ kinds: ["s3"] });
  const s3 = clientOf(run);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { run, s3, bucket };
}

/** The official Stripe SDK pointed at a run's clone, configured only with host, port and protocol. */
export const stripeOf = (run: Run) => {
  const u = new URL(run.clones.stripe.url);
  return new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "http" });
};

/** The error a Stripe SDK call fails with, or a failure when it succeeds. */
export async function caught(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (e) {
    return e as Stripe.errors.StripeError;
  }
  throw new Error("expected the call to fail");
}

/** `@aws-sdk/client-s3` pointed at a run's clone (path-style, the run's keys unless others are given). */
export const s3Of = (run: Run, opts: { secretAccessKey?: string; accessKeyId?: string; maxAttempts?: number } = {}) =>
  new S3Client({
    endpoint: run.clones.s3.url, region: run.clones.s3.region, forcePathStyle: true, maxAttempts: opts.maxAttempts,
    credentials: { accessKeyId: opts.accessKeyId ?? run.clones.s3.accessKeyId, secretAccessKey: opts.secretAccessKey ?? run.clones.s3.secretAccessKey },
  });

/** The S3 error an SDK call fails with (its name, HTTP status, message and headers), or a failure when it succeeds. */
export async function s3Failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message, headers: err.$response?.headers ?? {} };
  }
  throw new Error("expected the call to fail");
}
