// The benchmark's rows. To add one, append a Scenario: it gets the context (the running stack, the
// baselines, earlier results) and answers a Measure; its target, if any, gives the verdict.
import { request as httpRequest } from "node:http";
import type { Running } from "../src/runner/server.ts";
import { fetchFloor, type Baseline } from "./baselines.ts";
import { call, load, median, pool, quantile, type Measure } from "./lib.ts";
import { get16, parallelUploads, put16, s3GetReq, s3rverGet } from "./s3.ts";

export interface RunInfo {
  runId: string;
  token: string;
  adminUrl: string;
  clones: { email: { url: string; apiKey: string } };
}

export interface Settings {
  /** Seconds each load scenario is measured. */
  duration: number;
  /** Seconds of warm-up before each load scenario. */
  warmup: number;
  /** Connections for throughput rows (latency rows use 1). */
  connections: number;
}

export interface Ctx {
  stack: Running;
  hello: Baseline;
  bareDo: Baseline;
  settings: Settings;
  /** Results so far, by scenario id. */
  results: Map<string, Measure>;
  /** Spawns a run of the email clone. */
  spawn(): Promise<RunInfo>;
  /** One shared email run for the email rows (spawned on first use). */
  emailRun(): Promise<RunInfo>;
  /**
   * Waits (bounded) until `run` (default: every run handed out by spawn/emailRun) has no scheduled
   * work left, so that one row's backlog does not bill the next; answers the ms waited.
   */
  quiesce(run?: RunInfo, timeoutMs?: number): Promise<number>;
  /** Shared scratch space between scenarios. */
  state: Record<string, unknown>;
}

export interface Target {
  label: string;
  check(m: Measure): boolean;
}

export interface Scenario {
  id: string;
  name: string;
  target?: Target;
  /** Rows whose every answer must be 2xx; a transport error or a non-2xx is breakage (exit 1). Default true. */
  expect2xx?: boolean;
  /** Rows whose req/s is compared with the hello-world ceiling at the same connection count. */
  ceilingRatio?: boolean;
  run(ctx: Ctx): Promise<Measure>;
}

// ---- targets

const fmt = (n: number) => String(n);
export function latencyTarget(max: { p50?: number; p99?: number }, note = ""): Target {
  const parts = [max.p50 !== undefined ? `p50 ≤ ${fmt(max.p50)} ms` : "", max.p99 !== undefined ? `p99 ≤ ${fmt(max.p99)} ms` : ""].filter(Boolean);
  return {
    label: parts.join(", ") + note,
    check: (m) => (max.p50 === undefined || (m.p50 !== null && m.p50 <= max.p50)) && (max.p99 === undefined || (m.p99 !== null && m.p99 <= max.p99)),
  };
}
export function throughputTarget(min: number, unit = "req/s"): Target {
  return { label: `≥ ${min} ${unit}`, check: (m) => m.rps !== null && m.rps >= min };
}

// ---- helpers

const EMAIL = { from: "a@example.com", to: "b@example.com", subject: "hi", text: "hello" };
const derived = (p50: number | null, extra: Record<string, unknown> = {}): Measure => ({ p50, p99: null, rps: null, errors: 0, non2xx: 0, extra });

function need(ctx: Ctx, id: string): Measure {
  const m = ctx.results.get(id);
  if (!m) throw new Error(`needs the result of scenario ${id}, which did not run or failed`);
  return m;
}

type Req = { url: string; method?: "GET" | "POST"; headers?: Record<string, string>; body?: string; bodyFor?: () => string };

/** A GET/POST load row at `connections`; `around` may wrap the measurement (set-up, tear-down). */
function loadRow(
  id: string,
  name: string,
  connections: number | "throughput",
  req: (ctx: Ctx) => Promise<Req>,
  target?: Target,
  around?: (ctx: Ctx, measure: () => Promise<Measure>) => Promise<Measure>,
): Scenario {
  return {
    id,
    name,
    target,
    ceilingRatio: true,
    async run(ctx) {
      const c = connections === "throughput" ? ctx.settings.connections : connections;
      const r = await req(ctx);
      const measure = () => load({ ...r, connections: c, duration: ctx.settings.duration, warmup: ctx.settings.warmup });
      return around ? around(ctx, measure) : measure();
    },
  };
}

/** Measures with the email run's clock frozen: sends schedule their delivery jobs, none fires. */
async function clockFrozen(ctx: Ctx, measure: () => Promise<Measure>): Promise<Measure> {
  const run = await ctx.emailRun();
  await call("POST", `${run.adminUrl}/clock/freeze`, { token: run.token });
  try {
    return await measure();
  } finally {
    await call("POST", `${run.adminUrl}/clock/resume`, { token: run.token });
  }
}

const helloReq = async (ctx: Ctx) => ({ url: `${ctx.hello.url}/` });
const bareDoReq = async (ctx: Ctx) => ({ url: `${ctx.bareDo.url}/insert` });
const spawnReq = async (ctx: Ctx) => ({
  url: `${ctx.stack.urls.control}/v1/runs`,
  method: "POST" as const,
  headers: { authorization: `Bearer ${ctx.stack.apiToken}` },
  body: JSON.stringify({ kinds: ["email"], ttlSeconds: 600 }),
});
const sendReq = async (ctx: Ctx) => {
  const run = await ctx.emailRun();
  await ctx.quiesce(run);
  return { url: `${run.clones.email.url}/emails`, method: "POST" as const, headers: { authorization: `Bearer ${run.clones.email.apiKey}` }, body: JSON.stringify(EMAIL) };
};
const getReq = async (ctx: Ctx) => {
  const run = await ctx.emailRun();
  let id = ctx.state.emailId as string | undefined;
  if (!id) {
    id = (await call<{ id: string }>("POST", `${run.clones.email.url}/emails`, { token: run.clones.email.apiKey, body: EMAIL })).id;
    ctx.state.emailId = id;
  }
  await ctx.quiesce(run);
  return { url: `${run.clones.email.url}/emails/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${run.clones.email.apiKey}` } };
};

/** Rounds of (bare DO, email GET) slices the overhead row alternates. */
const OVERHEAD_ROUNDS = 4;

// ---- snapshot + restore of a 10,000-resource world

const WORLD_SIZE = 10_000;
const BATCH = 100;
const ITERATIONS = 5;
const MUTATION = 100;

async function snapshotRestore(ctx: Ctx): Promise<Measure> {
  const run = await ctx.spawn();
  const emailUrl = run.clones.email.url;
  const key = run.clones.email.apiKey;
  // Seed with the run's clock frozen, so the 10,000 delivery jobs (due 2 s after each send) do not
  // fire while seeding; then let them all fire, and time snapshots of the settled world.
  await call("POST", `${run.adminUrl}/clock/freeze`, { token: run.token });
  const seedStart = performance.now();
  const batches = Array.from({ length: WORLD_SIZE / BATCH }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => ({ ...EMAIL, subject: `seed ${b * BATCH + i}` })),
  );
  await pool(batches, 4, async (batch) => {
    const r = await call<{ data: { id: string }[] }>("POST", `${emailUrl}/emails/batch`, { token: key, body: batch });
    if (r.data.length !== batch.length) throw new Error(`batch created ${r.data.length} of ${batch.length} emails`);
  });
  const seedMs = performance.now() - seedStart;
  await call("POST", `${run.adminUrl}/clock/resume`, { token: run.token });
  const drainMs = await ctx.quiesce(run, 120_000);

  type Snap = { id: string; bytes: number; counts: Record<string, Record<string, number>> };
  // Between snapshot and restore the world changes as a test would change it (100 more emails,
  // untimed), so the restore has real work to undo rather than a no-op.
  const mutation = Array.from({ length: MUTATION }, (_, i) => ({ ...EMAIL, subject: `changed ${i}` }));
  const once = async (label: string) => {
    const t0 = performance.now();
    const snap = await call<Snap>("POST", `${run.adminUrl}/snapshots`, { token: run.token, body: { label } });
    const t1 = performance.now();
    await call("POST", `${emailUrl}/emails/batch`, { token: key, body: mutation });
    const t2 = performance.now();
    await call("POST", `${run.adminUrl}/snapshots/${encodeURIComponent(snap.id)}/restore`, { token: run.token });
    const t3 = performance.now();
    return { snap, snapshotMs: t1 - t0, restoreMs: t3 - t2 };
  };
  const first = await once("bench-warmup"); // unrecorded: the first pass pays for JIT
  const emails = first.snap.counts.email?.email ?? 0;
  if (emails !== WORLD_SIZE) throw new Error(`the snapshot counts ${emails} emails, expected ${WORLD_SIZE}: ${JSON.stringify(first.snap.counts)}`);

  const snapshotMs: number[] = [];
  const restoreMs: number[] = [];
  const sums: number[] = [];
  let bytes = first.snap.bytes;
  for (let i = 0; i < ITERATIONS; i++) {
    const r = await once(`bench-${i}`);
    snapshotMs.push(r.snapshotMs);
    restoreMs.push(r.restoreMs);
    sums.push(r.snapshotMs + r.restoreMs);
    bytes = r.snap.bytes;
  }
  const resources = Object.values(first.snap.counts).reduce((n, byType) => n + Object.values(byType).reduce((a, b) => a + b, 0), 0);
  return {
    p50: median(sums),
    p99: Math.max(...sums),
    rps: null,
    ok: ITERATIONS,
    errors: 0,
    non2xx: 0,
    extra: {
      iterations: ITERATIONS,
      snapshotMs,
      restoreMs,
      sumMs: sums,
      snapshotMedianMs: median(snapshotMs),
      snapshotMaxMs: Math.max(...snapshotMs),
      restoreMedianMs: median(restoreMs),
      restoreMaxMs: Math.max(...restoreMs),
      bundleBytes: bytes,
      resources,
      counts: first.snap.counts,
      seedMs,
      drainMs,
    },
  };
}

// ---- Twilio and Clerk: runs of their own

type AnyRun = { runId: string; token: string; adminUrl: string; clones: Record<string, Record<string, string>> };
async function kindRun(ctx: Ctx, kind: "twilio" | "auth" | "stripe" | "s3"): Promise<AnyRun> {
  const key = `run.${kind}`;
  ctx.state[key] ??= call<AnyRun>("POST", `${ctx.stack.urls.control}/v1/runs`, { token: ctx.stack.apiToken, body: { kinds: [kind], ttlSeconds: 3600 } });
  return ctx.state[key] as Promise<AnyRun>;
}

const twilioSendReq = async (ctx: Ctx) => {
  const run = await kindRun(ctx, "twilio");
  const t = run.clones.twilio;
  await ctx.quiesce(run as unknown as RunInfo);
  return {
    url: `${t.url}/2010-04-01/Accounts/${t.accountSid}/Messages.json`,
    method: "POST" as const,
    headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ From: "+15005550006", To: "+14155550100", Body: "bench" }).toString(),
  };
};

/** Messages the Twilio bulk row queues before one clock advance delivers them all. */
const TWILIO_BULK = Number(process.env.BENCH_TWILIO_BULK ?? 10_000);

/**
 * Queues TWILIO_BULK messages with a StatusCallback to a receiver in this process (the run's clock
 * frozen, so all are due together), then times the one clock advance that takes every message to
 * delivered and lands its two signed callbacks (sent, delivered). Checks every callback arrived.
 */
async function twilioBulk(ctx: Ctx, callbacks: boolean): Promise<Measure> {
  const http = await import("node:http");
  const run = await call<AnyRun>("POST", `${ctx.stack.urls.control}/v1/runs`, { token: ctx.stack.apiToken, body: { kinds: ["twilio"], ttlSeconds: 3600 } });
  const t = run.clones.twilio;
  const got = { sent: 0, delivered: 0, other: 0 };
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const status = new URLSearchParams(body).get("MessageStatus");
      if (status === "sent" || status === "delivered") got[status]++;
      else got.other++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const hook = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}/status`;
  try {
    await call("POST", `${run.adminUrl}/clock/freeze`, { token: run.token });
    const auth = `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString("base64")}`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const seedStart = performance.now();
    await pool(Array.from({ length: TWILIO_BULK }, (_, i) => i), 8, (i) =>
      new Promise<void>((resolve, reject) => {
        const body = new URLSearchParams({ From: "+15005550006", To: `+1415555${String(i % 10_000).padStart(4, "0")}`, Body: `bulk ${i}`, ...(callbacks ? { StatusCallback: hook } : {}) }).toString();
        const r = http.request(`${t.url}/2010-04-01/Accounts/${t.accountSid}/Messages.json`, { method: "POST", agent, headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" } }, (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`create answered ${res.statusCode}`))));
        });
        r.on("error", reject);
        r.end(body);
      }),
    );
    agent.destroy();
    const seedMs = performance.now() - seedStart;
    const t0 = performance.now();
    const adv = await call<{ fired: unknown[] }>("POST", `${run.adminUrl}/clock/advance`, { token: run.token, body: { by: "10s" } });
    const ms = performance.now() - t0;
    // The ticks report what they moved: every message must have reached delivered.
    const delivered = (adv.fired as { what: string }[]).reduce((n, f) => n + Number(/^messages: .*?(\d+) delivered/.exec(f.what)?.[1] ?? (/^message \S+ delivered$/.test(f.what) ? 1 : 0)), 0);
    if (delivered !== TWILIO_BULK) throw new Error(`${delivered} of ${TWILIO_BULK} messages reached delivered in the advance`);
    const expected = callbacks ? TWILIO_BULK : 0;
    if (got.sent !== expected || got.delivered !== expected || got.other !== 0) throw new Error(`callbacks after the advance: ${JSON.stringify(got)}, expected ${expected} of each`);
    // The same number of POSTs from a bare workerd to the same receiver, right after: the floor.
    const floor = callbacks ? await fetchFloor(hook, 2 * TWILIO_BULK, 32) : null;
    return { ...derived(ms), ok: 1, extra: { messages: TWILIO_BULK, callbacks: got.sent + got.delivered, seedMs, firedReported: adv.fired.length, fetchFloorMs: floor?.ms ?? null } };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await call("DELETE", `${ctx.stack.urls.control}/v1/runs/${run.runId}`, { token: ctx.stack.apiToken }).catch(() => undefined);
  }
}

let userSeq = 0;
const createUserReq = async (ctx: Ctx) => {
  const a = (await kindRun(ctx, "auth")).clones.auth;
  return {
    url: `${a.url}/v1/users`,
    method: "POST" as const,
    headers: { authorization: `Bearer ${a.secretKey}` },
    bodyFor: () => JSON.stringify({ email_address: [`bench${process.pid}-${++userSeq}@acme.test`] }),
  };
};

const jwksReq = async (ctx: Ctx) => {
  const a = (await kindRun(ctx, "auth")).clones.auth;
  return { url: `${a.url}/v1/jwks`, headers: { authorization: `Bearer ${a.secretKey}` } };
};

const tokenReq = async (ctx: Ctx) => {
  const a = (await kindRun(ctx, "auth")).clones.auth;
  if (!ctx.state.sessionId) {
    const user = await call<{ id: string }>("POST", `${a.url}/v1/users`, { token: a.secretKey, body: { email_address: [`bench-session-${process.pid}@acme.test`] } });
    ctx.state.sessionId = (await call<{ id: string }>("POST", `${a.url}/v1/sessions`, { token: a.secretKey, body: { user_id: user.id } })).id;
  }
  return { url: `${a.url}/v1/sessions/${ctx.state.sessionId}/tokens`, method: "POST" as const, headers: { authorization: `Bearer ${a.secretKey}` }, body: "{}" };
};

// ---- Stripe and S3

const stripeAuth = (a: Record<string, string>) => ({ authorization: `Bearer ${a.secretKey}`, "content-type": "application/x-www-form-urlencoded" });
const customerReq = async (ctx: Ctx) => {
  const a = (await kindRun(ctx, "stripe")).clones.stripe;
  return { url: `${a.url}/v1/customers`, method: "POST" as const, headers: stripeAuth(a), body: "email=bench%40acme.test&name=Bench" };
};

/** A form POST to the Stripe clone over `agent`, answering the object or failing with the status. */
function stripePost(a: AnyRun["clones"]["stripe"], agent: import("node:http").Agent) {
  return (path: string, body: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const r = httpRequest(`${a.url}${path}`, { method: "POST", agent, headers: stripeAuth(a) }, (res) => {
        let t = "";
        res.on("data", (d) => (t += d));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(t)) : reject(new Error(`${path}: ${res.statusCode} ${t.slice(0, 200)}`))));
      });
      r.on("error", reject);
      r.end(body);
    });
}

/** PaymentIntent create + confirm with pm_card_visa, back to back: the pair's latency. */
async function piPair(ctx: Ctx): Promise<Measure> {
  const a = (await kindRun(ctx, "stripe")).clones.stripe;
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = stripePost(a, agent);
  const pairs: number[] = [];
  const until = performance.now() + ctx.settings.duration * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    const pi = await post("/v1/payment_intents", "amount=1999&currency=usd&payment_method=pm_card_visa&payment_method_types[]=card");
    await post(`/v1/payment_intents/${pi.id}/confirm`, "");
    pairs.push(performance.now() - t);
  }
  agent.destroy();
  pairs.sort((x, y) => x - y);
  return { p50: quantile(pairs, 0.5), p99: quantile(pairs, 0.99), rps: pairs.length / ctx.settings.duration, ok: pairs.length, errors: 0, non2xx: 0 };
}

/** Subscriptions renewed by one clock advance (BENCH_RENEWALS overrides, for a quicker look). */
const RENEWALS = Number(process.env.BENCH_RENEWALS ?? 10_000);
const RENEWAL_ITERATIONS = 3;

/**
 * A 30-day advance over RENEWALS active subscriptions (100 per customer, each on a 30-day price,
 * created at one frozen instant so they all renew together): each renewal drafts, finalizes and
 * pays an invoice through a PaymentIntent and a charge, with their events. The world is seeded
 * once through the API; each timed advance is one more round of renewals.
 */
async function renewals(ctx: Ctx): Promise<Measure> {
  const run = await call<AnyRun>("POST", `${ctx.stack.urls.control}/v1/runs`, { token: ctx.stack.apiToken, body: { kinds: ["stripe"], ttlSeconds: 3600 } });
  const a = run.clones.stripe;
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const post = stripePost(a, agent);
  await call("POST", `${run.adminUrl}/clock/freeze`, { token: run.token });
  const seedStart = performance.now();
  const price = await post("/v1/prices", "currency=usd&unit_amount=1500&recurring[interval]=day&recurring[interval_count]=30&product_data[name]=Bench");
  const customers = Math.ceil(RENEWALS / 100);
  const subs: { customer: string }[] = [];
  await pool(Array.from({ length: customers }, (_, i) => i), 8, async (i) => {
    const cus = await post("/v1/customers", `email=renew${i}%40acme.test`);
    const pm = await post(`/v1/payment_methods/pm_card_visa/attach`, `customer=${cus.id}`);
    await post(`/v1/customers/${cus.id}`, `invoice_settings[default_payment_method]=${pm.id}`);
    for (let j = 0; j < 100 && subs.length < RENEWALS; j++) subs.push({ customer: String(cus.id) });
  });
  await pool(subs, 8, async ({ customer }) => {
    const sub = await post("/v1/subscriptions", `customer=${customer}&items[0][price]=${price.id}`);
    if (sub.status !== "active") throw new Error(`a seeded subscription is ${sub.status}`);
  });
  agent.destroy();
  const seedMs = performance.now() - seedStart;
  // Every 30 days each subscription renews again: successive advances are successive rounds of
  // RENEWALS renewals (a snapshot of this world is too big to restore between rounds).
  const times: number[] = [];
  let fired = "";
  for (let i = 0; i <= RENEWAL_ITERATIONS; i++) {
    const t0 = performance.now();
    const r = await call<{ fired: { what: string }[] }>("POST", `${run.adminUrl}/clock/advance`, { token: run.token, body: { by: "30d" } });
    const ms = performance.now() - t0;
    fired = r.fired.map((f) => f.what).join("; ");
    if (!fired.includes(`${RENEWALS} subscriptions renewed`)) throw new Error(`the advance did not renew ${RENEWALS} subscriptions: ${fired.slice(0, 300)}`);
    if (i > 0) times.push(ms); // the first pass pays for JIT
  }
  // The last pass's world: every subscription has its second invoice, paid.
  const inv = await call<{ data: { status: string; billing_reason: string }[] }>("GET", `${a.url}/v1/invoices?limit=1`, { token: a.secretKey });
  if (inv.data[0]?.billing_reason !== "subscription_cycle" || inv.data[0]?.status !== "paid") throw new Error(`the newest invoice is ${JSON.stringify(inv.data[0])}`);
  times.sort((x, y) => x - y);
  await call("DELETE", `${ctx.stack.urls.control}/v1/runs/${run.runId}`, { token: ctx.stack.apiToken });
  return { p50: median(times), p99: Math.max(...times), rps: null, ok: times.length, errors: 0, non2xx: 0, extra: { renewals: RENEWALS, timesMs: times, seedMs, fired } };
}

// ---- the SDK in library mode: each row in a fresh Node process, as a test runner would be

const SDK_STARTS = 50;
const FIXTURE_TESTS = 60;

async function sdkStarts(ctx: Ctx): Promise<{ first: number; next: number[] }> {
  if (!ctx.state.sdk) {
    const { execFile } = await import("node:child_process");
    const path = await import("node:path");
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.join(import.meta.dirname, "sdk-start.ts"), String(SDK_STARTS)], { maxBuffer: 1 << 20 }, (e, stdout) => (e ? reject(e) : resolve(stdout))),
    );
    ctx.state.sdk = JSON.parse(out.trim().split("\n").pop()!);
  }
  return ctx.state.sdk as { first: number; next: number[] };
}

/** A Vitest file of 60 tests, each with its own run through the fixture, timed end to end. */
async function fixtureFile(): Promise<number> {
  const { execFile } = await import("node:child_process");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "molar-bench-vitest-"));
  const sdk = path.join(import.meta.dirname, "../src/sdk/vitest.ts");
  fs.writeFileSync(path.join(dir, "vitest.config.mjs"), "export default { test: { include: ['*.test.ts'] } };\n");
  fs.writeFileSync(
    path.join(dir, "sixty.test.ts"),
    `import { expect } from "vitest";\nimport { test } from ${JSON.stringify(sdk)};\ntest.scoped({ runOptions: { kinds: ["email"] } });\n` +
      Array.from({ length: FIXTURE_TESTS }, (_, i) => `test("t${i}", async ({ run }) => { expect(run.email.apiKey).toMatch(/^re_/); });`).join("\n") + "\n",
  );
  const vitest = path.join(import.meta.dirname, "../node_modules/vitest/vitest.mjs");
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [vitest, "run", "--root", dir, "--config", path.join(dir, "vitest.config.mjs")], { env: { ...process.env, MOLAR_CLONES_CTRL_URL: "" } }, (e, stdout, stderr) =>
      e ? reject(new Error(`${stdout}${stderr}`)) : resolve(),
    ),
  );
  const ms = performance.now() - t0;
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

// ---- the list; rows run, and are printed, in this order. The email GET rows run before the send
// rows so that they meet a small, idle world; every email row waits for the run's job queue to
// drain first (each send schedules a delivery job 2 s later on the run's clock), and run.ts
// waits for every run it knows of to be idle before each row.

export const SCENARIOS: Scenario[] = [
  loadRow("hello-1", "bare workerd hello world (GET, 1 conn)", 1, helloReq),
  loadRow("hello-n", "bare workerd hello world (GET, N conns) — ceiling", "throughput", helloReq),
  loadRow("bare-do-1", "bare DO call, one INSERT (1 conn)", 1, bareDoReq),
  loadRow("bare-do-n", "bare DO call, one INSERT (N conns)", "throughput", bareDoReq),
  loadRow("spawn-1", "spawn a run, POST /v1/runs (1 conn)", 1, spawnReq, latencyTarget({ p50: 6, p99: 20 })),
  loadRow("email-get-1", "email GET /emails/{id} (1 conn)", 1, getReq),
  loadRow("email-get-n", "email GET /emails/{id} (N conns)", "throughput", getReq),
  {
    // Interleaved rounds rather than the two rows above: on a shared 2-core machine the p50 of a
    // row drifts by a few tenths of a ms from one minute to the next, the size of the target.
    id: "overhead",
    name: `stack overhead: p50(email GET) − p50(bare DO), 1 conn, ${OVERHEAD_ROUNDS} interleaved rounds`,
    target: { label: "≤ 0.5 ms", check: (m) => m.p50 !== null && m.p50 <= 0.5 },
    async run(ctx) {
      const get = await getReq(ctx);
      const bare = await bareDoReq(ctx);
      const slice = Math.max(1, ctx.settings.duration / 2.5);
      const all = { get: [] as number[], bare: [] as number[] };
      const rounds: { getP50: number | null; bareP50: number | null; overhead: number | null }[] = [];
      let errors = 0;
      let non2xx = 0;
      for (let i = 0; i < OVERHEAD_ROUNDS; i++) {
        const warmup = i === 0 ? ctx.settings.warmup : 0;
        const b = await load({ ...bare, connections: 1, duration: slice, warmup, keepLatencies: true });
        const g = await load({ ...get, connections: 1, duration: slice, warmup, keepLatencies: true });
        all.bare.push(...b.latencies!);
        all.get.push(...g.latencies!);
        errors += b.errors + g.errors;
        non2xx += b.non2xx + g.non2xx;
        rounds.push({ getP50: g.p50, bareP50: b.p50, overhead: g.p50 !== null && b.p50 !== null ? g.p50 - b.p50 : null });
      }
      all.get.sort((x, y) => x - y);
      all.bare.sort((x, y) => x - y);
      const g50 = quantile(all.get, 0.5);
      const b50 = quantile(all.bare, 0.5);
      if (g50 === null || b50 === null) throw new Error("no 2xx latencies to compare");
      return {
        p50: g50 - b50,
        p99: null,
        rps: null,
        errors,
        non2xx,
        extra: { vendorGetP50: g50, bareDoP50: b50, vendorGetP99: quantile(all.get, 0.99), bareDoP99: quantile(all.bare, 0.99), sliceSeconds: slice, rounds },
      };
    },
  },
  loadRow("email-send-1", "email send, POST /emails (1 conn)", 1, sendReq, latencyTarget({ p50: 2 })),
  loadRow("email-send-n", "email send, POST /emails (N conns)", "throughput", sendReq, throughputTarget(500, "msg/s")),
  // Diagnostic rows: the same sends with the run's clock frozen, so the delivery job each send
  // schedules (2 s later) never fires during the measurement: the request alone.
  loadRow("email-send-frozen-1", "  email send, run clock frozen (1 conn)", 1, sendReq, undefined, clockFrozen),
  loadRow("email-send-frozen-n", "  email send, run clock frozen (N conns)", "throughput", sendReq, undefined, clockFrozen),
  {
    id: "snapshot-restore",
    name: `snapshot + restore, ${WORLD_SIZE.toLocaleString("en")} emails, ${MUTATION} changed between (median/max of ${ITERATIONS})`,
    target: { label: "≤ 350 ms", check: (m) => m.p50 !== null && m.p50 <= 350 },
    run: snapshotRestore,
  },
  {
    id: "snapshot",
    name: "  snapshot alone (median/max)",
    async run(ctx) {
      const x = need(ctx, "snapshot-restore").extra!;
      return { ...derived(x.snapshotMedianMs as number), p99: x.snapshotMaxMs as number };
    },
  },
  {
    id: "restore",
    name: "  restore alone (median/max)",
    async run(ctx) {
      const x = need(ctx, "snapshot-restore").extra!;
      return { ...derived(x.restoreMedianMs as number), p99: x.restoreMaxMs as number };
    },
  },
  loadRow("twilio-send-1", "twilio message create (1 conn)", 1, twilioSendReq, latencyTarget({ p50: 2 })),
  loadRow("twilio-send-n", "twilio message create (N conns)", "throughput", twilioSendReq, throughputTarget(800, "msg/s")),
  {
    id: "twilio-bulk-advance",
    name: `twilio clock advance delivering ${TWILIO_BULK.toLocaleString("en")} queued messages, 2 signed callbacks each`,
    target: { label: "≤ 500 ms", check: (m) => m.p50 !== null && m.p50 <= 500 },
    run: (ctx) => twilioBulk(ctx, true),
  },
  {
    id: "twilio-bulk-fetch-floor",
    name: `  floor: a bare workerd POSTing ${(2 * TWILIO_BULK).toLocaleString("en")} forms to the same receiver, 32 at a time`,
    async run(ctx) {
      return derived(need(ctx, "twilio-bulk-advance").extra!.fetchFloorMs as number);
    },
  },
  // Diagnostic: the same advance without callbacks, the lifecycle's state steps alone.
  { id: "twilio-bulk-advance-steps", name: "  the same advance without StatusCallback (state steps only)", run: (ctx) => twilioBulk(ctx, false) },
  loadRow("auth-create-user-1", "clerk users.createUser (1 conn)", 1, createUserReq, latencyTarget({ p50: 2 })),
  loadRow("auth-token-1", "clerk session token mint, RS256 (1 conn)", 1, tokenReq, latencyTarget({ p50: 3 })),
  loadRow("auth-jwks-1", "clerk JWKS GET (1 conn)", 1, jwksReq, latencyTarget({ p50: 1 })),
  loadRow("stripe-customer-1", "stripe POST /v1/customers (1 conn)", 1, customerReq, latencyTarget({ p50: 2, p99: 8 })),
  loadRow("stripe-customer-n", "stripe POST /v1/customers (N conns)", "throughput", customerReq, throughputTarget(1000, "req/s")),
  { id: "stripe-pi-pair", name: "stripe PaymentIntent create + confirm, the pair (1 conn)", target: { label: "p50 ≤ 4.5 ms", check: (m) => m.p50 !== null && m.p50 <= 4.5 }, run: piPair },
  {
    id: "stripe-renewals",
    name: `stripe clock advance of 30 days over ${RENEWALS.toLocaleString("en")} active subscriptions (median/max of ${RENEWAL_ITERATIONS})`,
    target: { label: "p50 ≤ 150 ms", check: (m) => m.p50 !== null && m.p50 <= 150 },
    run: renewals,
  },
  {
    // A renewal makes 12 objects (an invoice, a PaymentIntent, a charge, a balance transaction and
    // 8 events), each its own row as Stripe's ids and lists need: this row times only inserting
    // that many keyed rows, without their JSON, in the bare object.
    id: "stripe-renewals-floor",
    name: `  floor: ${(RENEWALS * 12).toLocaleString("en")} empty keyed rows in one bare DO transaction (12 per renewal; median of ${RENEWAL_ITERATIONS})`,
    async run(ctx) {
      const times: number[] = [];
      for (let i = 0; i <= RENEWAL_ITERATIONS; i++) {
        const t0 = performance.now();
        const r = (await (await fetch(`${ctx.bareDo.url}/floor?rows=${RENEWALS * 12}`)).json()) as { rows: number };
        if (r.rows !== RENEWALS * 12) throw new Error(`the floor wrote ${r.rows} rows`);
        if (i > 0) times.push(performance.now() - t0);
      }
      times.sort((x, y) => x - y);
      return { p50: median(times), p99: Math.max(...times), rps: null, ok: times.length, errors: 0, non2xx: 0, extra: { rows: RENEWALS * 12, timesMs: times } };
    },
  },
  // S3 rows go through a Node front of their own, as `npm start` serves S3 (see bench/s3.ts).
  loadRow("s3-get-1k", "s3 GET of a 1 KiB object, presigned (1 conn)", 1, s3GetReq, latencyTarget({ p50: 1.5 })),
  loadRow("s3-get-1k-n", "s3 GET of a 1 KiB object, presigned (N conns)", "throughput", s3GetReq),
  { id: "s3rver-get-1k-1", name: "  s3rver (npm): the same GET (1 conn)", run: (ctx) => s3rverGet(ctx, 1) },
  { id: "s3rver-get-1k-n", name: "  s3rver (npm): the same GET (N conns)", run: (ctx) => s3rverGet(ctx, ctx.settings.connections) },
  {
    id: "s3-vs-s3rver",
    name: "  s3 clone ÷ s3rver, 1 KiB GET req/s at N conns (the ratio in the p50 column)",
    target: { label: "≥ 1.5×", check: (m) => m.p50 !== null && m.p50 >= 1.5 },
    async run(ctx) {
      const mine = need(ctx, "s3-get-1k-n").rps;
      const theirs = need(ctx, "s3rver-get-1k-n").rps;
      if (!mine || !theirs) throw new Error("no throughput to compare");
      return derived(mine / theirs, { cloneRps: mine, s3rverRps: theirs });
    },
  },
  { id: "s3-put-16m", name: "s3 PUT of 16 MiB, presigned, streamed (1 conn)", target: latencyTarget({ p50: 250 }), run: put16 },
  { id: "s3-get-16m", name: "s3 GET of 16 MiB, presigned, to the last byte (1 conn)", target: latencyTarget({ p50: 120 }), run: get16 },
  {
    id: "s3-mem-10x64m",
    name: "s3: 10 parallel PUTs of 64 MiB (wall ms); workerd's RSS peak over that of 10 × 8 MiB, below",
    target: { label: "RSS peak + ≤ 64 MiB", check: (m) => typeof m.extra?.growthMiB === "number" && m.extra.growthMiB <= 64 },
    run: parallelUploads,
  },
  {
    id: "sdk-first-start",
    name: "SDK library mode: first clones.start() in a process",
    target: { label: "≤ 1.5 s", check: (m) => m.p50 !== null && m.p50 <= 1500 },
    async run(ctx) {
      return derived((await sdkStarts(ctx)).first);
    },
  },
  {
    id: "sdk-next-start",
    name: `SDK library mode: each further clones.start() (median/p99 of ${SDK_STARTS})`,
    target: { label: "≤ 10 ms", check: (m) => m.p50 !== null && m.p50 <= 10 },
    async run(ctx) {
      const next = [...(await sdkStarts(ctx)).next].sort((a, b) => a - b);
      return { ...derived(quantile(next, 0.5)!), p99: quantile(next, 0.99) };
    },
  },
  {
    id: "sdk-vitest-60",
    name: `SDK: a Vitest file of ${FIXTURE_TESTS} tests, each with its own run (wall time)`,
    target: { label: "≤ 5 s", check: (m) => m.p50 !== null && m.p50 <= 5000 },
    async run() {
      return derived(await fixtureFile());
    },
  },
];
