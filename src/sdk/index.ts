// The SDK (`@molar/clones`): one call from a test to a fresh world, in-process or against a
// running service. Library mode starts the clones through Miniflare once per process (in memory,
// free ports) and spawns a run per call; service mode (MOLAR_CLONES_CTRL_URL) spawns nothing
// locally and talks to that control API.
import { writeFile } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";

export type Kind = "stripe" | "twilio" | "email" | "auth" | "s3";

export interface StartOptions {
  runId?: string;
  kinds?: Kind[];
  seed?: string;
  /** Seconds, or a duration such as "2h". Default 3600. */
  ttl?: number | string;
  metadata?: Record<string, string>;
  /** Seed of the run's random draws (chaos rates, ids): the same seed replays the same run. */
  rngSeed?: string;
  fromSnapshot?: { runId: string; snapshotId: string };
}

export interface InboxMessage {
  id: string;
  channel: "email" | "sms";
  kind: string;
  to: string;
  from: string;
  subject?: string;
  text?: string;
  html?: string;
  code?: string;
  ref?: string;
  createdAt: string;
}

export interface Snapshot {
  id: string;
  label: string | null;
  createdAt: string;
  sha256: string;
  bytes: number;
  counts: Record<string, Record<string, number>>;
}

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

interface RunJson {
  runId: string;
  status: string;
  token: string;
  adminUrl: string;
  createdAt: string;
  expiresAt: string;
  clones: Partial<Record<Kind, Record<string, string>>>;
  env: Record<string, string>;
}

/** An error of the control or admin API, with its code and what to do. */
export class ClonesError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ClonesError";
    this.status = status;
    this.code = code;
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
function ttlSeconds(ttl: number | string | undefined): number | undefined {
  if (ttl === undefined || typeof ttl === "number") return ttl;
  let total = 0;
  const re = /(\d+)([smhd])/gy;
  let end = 0;
  for (let m = re.exec(ttl); m; m = re.exec(ttl)) {
    total += Number(m[1]) * UNITS[m[2]];
    end = re.lastIndex;
  }
  if (end !== ttl.length || total === 0) throw new ClonesError(0, "invalid_ttl", `ttl ${JSON.stringify(ttl)} is not a duration such as "90s", "2h" or "1d".`);
  return total;
}

async function call<T>(method: string, url: string, token: string, body?: unknown, raw = false): Promise<T> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, "x-molar-actor": "sdk" } };
  if (body instanceof Uint8Array) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  if (raw) (init.headers as Record<string, string>).accept = "application/gzip";
  const res = await fetch(url, init);
  if (!res.ok) {
    const text = await res.text();
    let err: { code?: string; message?: string } = {};
    try {
      err = (JSON.parse(text) as { error?: typeof err }).error ?? {};
    } catch {
      err = { message: text };
    }
    throw new ClonesError(res.status, err.code ?? `http_${res.status}`, `${method} ${url}: ${err.message ?? res.statusText}`);
  }
  if (raw) return new Uint8Array(await res.arrayBuffer()) as T;
  const ct = res.headers.get("content-type") ?? "";
  if (ct.includes("ndjson")) return (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l)) as T;
  return (await res.json()) as T;
}

/** A handle on one run: vendor configs for the official SDKs and the admin API as methods. */
export class Run {
  readonly runId: string;
  readonly token: string;
  readonly adminUrl: string;
  readonly env: Record<string, string>;
  readonly clones: Partial<Record<Kind, Record<string, string>>>;
  private readonly control: { url: string; key: string } | null;

  constructor(json: RunJson, control: { url: string; key: string } | null) {
    this.runId = json.runId;
    this.token = json.token;
    this.adminUrl = json.adminUrl;
    this.env = json.env;
    this.clones = json.clones;
    this.control = control;
  }

  private clone(kind: Kind): Record<string, string> {
    const c = this.clones[kind];
    if (!c) throw new ClonesError(0, "kind_not_in_run", `This run has no ${kind} clone; start it with kinds including "${kind}".`);
    return c;
  }

  private admin<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
    return call<T>(method, `${this.adminUrl}${path}`, this.token, body, raw);
  }

  /** `new Stripe(run.stripe.secretKey, run.stripe.config)` */
  get stripe() {
    const c = this.clone("stripe");
    const u = new URL(c.url);
    const protocol = u.protocol.replace(":", "") as "http" | "https";
    return { url: c.url, secretKey: c.secretKey, publishableKey: c.publishableKey, config: { host: u.hostname, port: Number(u.port || (protocol === "https" ? 443 : 80)), protocol } };
  }

  /** `new Resend(run.email.apiKey, run.email.config)` */
  get email() {
    const c = this.clone("email");
    return { url: c.url, apiKey: c.apiKey, config: { baseUrl: c.url } };
  }

  /** `createClerkClient(run.auth.config)`; `verifyToken(token, { jwtKey: run.auth.jwtKey })` */
  get auth() {
    const c = this.clone("auth");
    return { url: c.url, secretKey: c.secretKey, publishableKey: c.publishableKey, jwtKey: c.jwtKey, config: { secretKey: c.secretKey, publishableKey: c.publishableKey, apiUrl: c.url } };
  }

  /** `new S3Client(run.s3.config)` */
  get s3() {
    const c = this.clone("s3");
    const credentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    return { url: c.url, region: c.region, ...credentials, config: { endpoint: c.url, region: c.region, forcePathStyle: true, credentials } };
  }

  /** Twilio credentials and base URL; `twilioCloneHttpClient(run.twilio.url)` from "@molar/clones/twilio" reaches the clone. */
  get twilio() {
    const c = this.clone("twilio");
    return { url: c.url, accountSid: c.accountSid, authToken: c.authToken };
  }

  /**
   * Signs a user of the auth clone in, for browser tests: a fresh session and its token, and the
   * cookies (`__session`, `__client_uat`, `__clerk_db_jwt`) an app's authenticateRequest accepts.
   */
  signIn(userId: string, opts: { origin?: string; organizationId?: string } = {}) {
    return this.admin<{ sessionId: string; userId: string; token: string; expiresAt: string; cookies: Record<string, string>; cookieHeader: string }>(
      "POST",
      "/auth/session_token",
      { userId, ...opts },
    );
  }

  /** Writes the env block as a .env file an app under test can load. */
  async writeEnv(path: string): Promise<void> {
    const lines = Object.entries(this.env).map(([k, v]) => `${k}=${/[\s#"'=]/.test(v) ? JSON.stringify(v) : v}`);
    await writeFile(path, lines.join("\n") + "\n", { mode: 0o600 });
  }

  readonly clock = {
    now: () => this.admin<{ now: string; frozen: boolean; offsetMs: number }>("GET", "/clock"),
    /** `advance("30d")` or `advance({ to: "2027-01-01T00:00:00Z" })`: fires everything due, in order. */
    advance: (by: string | { to: string | Date }) =>
      this.admin<{ now: string; fired: { at: string; kind: string; what: string }[] }>(
        "POST",
        "/clock/advance",
        typeof by === "string" ? { by } : { to: by.to instanceof Date ? by.to.toISOString() : by.to },
      ),
    freeze: () => this.admin<{ now: string; frozen: boolean }>("POST", "/clock/freeze"),
    resume: () => this.admin<{ now: string; frozen: boolean }>("POST", "/clock/resume"),
  };

  readonly chaos = {
    preset: (kind: Kind, preset: string, opts: { rate?: number; times?: number } = {}) => this.admin<{ id: string }>("POST", `/chaos/presets/${kind}/${preset}`, opts),
    add: (rule: { kind: Kind; method?: string; path?: string; status?: number; latencyMs?: number; rate?: number; times?: number; preset?: string }) =>
      this.admin<{ id: string }>("POST", "/chaos/rules", rule),
    list: () => this.admin<{ data: { id: string; kind: string; fired: number }[] }>("GET", "/chaos/rules").then((r) => r.data),
    remove: (id: string) => this.admin("DELETE", `/chaos/rules/${encodeURIComponent(id)}`),
  };

  readonly snapshots = {
    save: (label?: string) => this.admin<Snapshot>("POST", "/snapshots", label ? { label } : {}),
    list: () => this.admin<{ data: Snapshot[] }>("GET", "/snapshots").then((r) => r.data),
    restore: (id: string) => this.admin("POST", `/snapshots/${encodeURIComponent(id)}/restore`),
    diff: (a: string, b: string) =>
      this.admin<{ added: { kind: string; type: string; id: string }[]; removed: { kind: string; type: string; id: string }[]; changed: { kind: string; type: string; id: string }[] }>(
        "GET",
        `/snapshots/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`,
      ),
    /** The bundle's bytes (gzip), to keep or to import elsewhere. */
    export: (id: string) => this.admin<Uint8Array>("GET", `/snapshots/${encodeURIComponent(id)}`, undefined, true),
    import: (bundle: Uint8Array) => this.admin<Snapshot>("POST", "/snapshots/import", bundle),
    remove: (id: string) => this.admin("DELETE", `/snapshots/${encodeURIComponent(id)}`),
  };

  readonly inbox = {
    list: (filter: { to?: string; channel?: "email" | "sms" } = {}) => {
      const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
      return this.admin<{ data: InboxMessage[] }>("GET", `/inbox${q.size ? `?${q}` : ""}`).then((r) => r.data);
    },
    /**
     * The newest message to `to` (on `channel`, passing `match`), waiting up to `timeoutMs`
     * (default 5 s) for one to arrive. Its `code` is the OTP, when one was sent.
     */
    waitFor: async (filter: { to: string; channel?: "email" | "sms"; timeoutMs?: number; match?: (m: InboxMessage) => boolean }): Promise<InboxMessage> => {
      const deadline = Date.now() + (filter.timeoutMs ?? 5000);
      for (;;) {
        const found = (await this.inbox.list({ to: filter.to, channel: filter.channel })).filter((m) => !filter.match || filter.match(m));
        if (found.length) return found[found.length - 1];
        if (Date.now() > deadline) throw new ClonesError(0, "inbox_timeout", `No ${filter.channel ?? "message"} to ${filter.to} arrived within ${filter.timeoutMs ?? 5000} ms.`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };

  readonly webhooks = {
    /**
     * Registers an endpoint for a dashboard-configured vendor (email, auth; `events` are event
     * types) or the destinations of S3 bucket notifications (s3; `events` are the queue, topic or
     * function ARNs it stands for, or "eventbridge"); answers its svix secret.
     */
    endpoint: (kind: "email" | "auth" | "s3", url: string, events?: string[]) => this.admin<{ id: string; secret: string }>("POST", "/webhooks/endpoints", { kind, url, events }),
    deliveries: () =>
      this.admin<{ data: { id: string; kind: string; url: string; event: string; status: string; attempts: number; nextAttemptAt?: string; lastError?: string }[] }>(
        "GET",
        "/webhooks/deliveries",
      ).then((r) => r.data),
    redeliver: (id: string) => this.admin("POST", `/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`),
  };

  logs(filter: { kind?: Kind; status?: number; path?: string; errorInjected?: boolean } = {}): Promise<LogEntry[]> {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.admin<LogEntry[]>("GET", `/logs${q.size ? `?${q}` : ""}`);
  }

  /** Tears the run down: its world and snapshots are gone, its credentials answer 401. */
  async teardown(): Promise<void> {
    if (!this.control) throw new ClonesError(0, "no_control_api", "This run was not spawned through a control API; tear it down where it was made.");
    await call("DELETE", `${this.control.url}/v1/runs/${encodeURIComponent(this.runId)}`, this.control.key);
  }
}

interface Backend {
  url: string;
  key: string;
  stop?: () => Promise<void>;
}

let library: Promise<Backend> | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Library mode: the clones in this process, in memory, on free ports; started once. */
async function startLibrary(): Promise<Backend> {
  const [{ readConfig }, { startServer }] = await Promise.all([import("../runner/config.ts"), import("../runner/server.ts")]);
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const key = `mck_lib_${crypto.randomUUID().replaceAll("-", "")}`;
  const kinds = ["STRIPE", "TWILIO", "EMAIL", "AUTH", "S3"];
  const env: NodeJS.ProcessEnv = { MOLAR_CLONES_ADDR: `127.0.0.1:${ports[0]}`, MOLAR_CLONES_API_TOKEN: key };
  kinds.forEach((k, i) => (env[`MOLAR_CLONE_${k}_ADDR`] = `127.0.0.1:${ports[i + 1]}`));
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (/^MOLAR_QUOTA_/.test(k) || k === "MOLAR_CLONES_ORGS")) env[k] = v;
  const s = await startServer(readConfig(env, ["--in-memory"]));
  return { url: s.urls.control, key, stop: s.stop };
}

function backend(): Promise<Backend> {
  const url = process.env.MOLAR_CLONES_CTRL_URL;
  if (url) {
    const key = process.env.MOLAR_CLONES_API_TOKEN;
    if (!key) throw new ClonesError(0, "missing_api_token", "MOLAR_CLONES_CTRL_URL is set but MOLAR_CLONES_API_TOKEN is not: set it to the org API key of that service.");
    trustCaFiles(process.env);
    return Promise.resolve({ url: url.replace(/\/$/, ""), key });
  }
  library ??= startLibrary().catch((e) => {
    library = null;
    throw e;
  });
  return library;
}

export interface WorldRef {
  /** A run's part (SDK-kept manifests) or a registered endpoint's (control-plane manifests). */
  runId?: string;
  endpointId?: string;
  kind?: Kind;
  kinds?: Kind[];
  snapshotId: string;
  sha256: string;
}
export interface WorldManifest {
  id: string;
  label: string | null;
  createdAt: string;
  refs: WorldRef[];
}
export type WorldComponent = WorldRef & { status: "restored" | "failed"; error?: string };
export interface FleetEndpoint {
  id: string;
  kind: Kind;
  apiUrl: string;
  adminUrl: string;
  labels: Record<string, string>;
  createdAt: string;
  health: { status: "healthy" | "unhealthy" | "unknown"; checkedAt: string | null; latencyMs: number | null; lastError: string | null };
}

const KIND_ENV: Record<Kind, string> = { stripe: "STRIPE", twilio: "TWILIO", email: "EMAIL", auth: "AUTH", s3: "S3" };

const trusted = new Set<string>();
/**
 * Private CAs (on-prem `serve` with TLS): MOLAR_CLONES_TLS_CA_FILE for the control URL and
 * MOLAR_CLONE_<KIND>_TLS_CA_FILE per clone are added to this process's default trust store, so
 * fetch, Node's https agents and every official SDK trust them with no option of their own.
 */
function trustCaFiles(env: NodeJS.ProcessEnv): void {
  const files = [env.MOLAR_CLONES_TLS_CA_FILE, ...Object.values(KIND_ENV).map((k) => env[`MOLAR_CLONE_${k}_TLS_CA_FILE`])].filter((f): f is string => !!f && !trusted.has(f));
  if (!files.length) return;
  const tlsMod = tls as typeof tls & { setDefaultCACertificates?: (certs: string[]) => void; getCACertificates?: (type?: string) => string[] };
  if (!tlsMod.setDefaultCACertificates || !tlsMod.getCACertificates) {
    throw new ClonesError(0, "tls_ca_unsupported", `MOLAR_CLONE_<KIND>_TLS_CA_FILE needs Node >= 24.5 (tls.setDefaultCACertificates); on this Node set NODE_EXTRA_CA_CERTS=${files[0]} instead.`);
  }
  const pems: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new ClonesError(0, "tls_ca_unreadable", `Cannot read the CA file ${f} (${(e as NodeJS.ErrnoException).code}); check MOLAR_CLONE_<KIND>_TLS_CA_FILE.`);
    }
    const found = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!found) throw new ClonesError(0, "tls_ca_invalid", `${f} holds no PEM certificate.`);
    pems.push(...found);
    trusted.add(f);
  }
  tlsMod.setDefaultCACertificates([...new Set([...tlsMod.getCACertificates("default"), ...pems])]);
}

/**
 * A handle on a run that already exists, described by an env block (CONTRACT section 5), as a PR
 * preview or a BYOC fleet hands it out: nothing is spawned. Null when no clone is described.
 */
function attach(env: NodeJS.ProcessEnv): Run | null {
  const kinds = (Object.keys(KIND_ENV) as Kind[]).filter((k) => env[`MOLAR_CLONE_${KIND_ENV[k]}_URL`]);
  if (!kinds.length) return null;
  trustCaFiles(env);
  const admin = kinds.map((k) => ({ url: env[`MOLAR_CLONE_${KIND_ENV[k]}_ADMIN_URL`], token: env[`MOLAR_CLONE_${KIND_ENV[k]}_ADMIN_TOKEN`] })).find((a) => a.url && a.token);
  if (!admin) throw new ClonesError(0, "missing_admin", `MOLAR_CLONE_${KIND_ENV[kinds[0]]}_URL is set but no MOLAR_CLONE_<KIND>_ADMIN_URL / _ADMIN_TOKEN pair: add them from the run's env block.`);
  const url = (k: Kind) => env[`MOLAR_CLONE_${KIND_ENV[k]}_URL`]!;
  const clones: RunJson["clones"] = {};
  const e = (name: string) => env[name] ?? "";
  if (kinds.includes("stripe")) clones.stripe = { url: url("stripe"), secretKey: e("STRIPE_SECRET_KEY"), publishableKey: e("STRIPE_PUBLISHABLE_KEY") };
  if (kinds.includes("twilio")) clones.twilio = { url: url("twilio"), accountSid: e("TWILIO_ACCOUNT_SID"), authToken: e("TWILIO_AUTH_TOKEN") };
  if (kinds.includes("email")) clones.email = { url: url("email"), apiKey: e("RESEND_API_KEY") };
  if (kinds.includes("auth")) clones.auth = { url: url("auth"), secretKey: e("CLERK_SECRET_KEY"), publishableKey: e("CLERK_PUBLISHABLE_KEY"), jwtKey: e("CLERK_JWT_KEY") };
  if (kinds.includes("s3")) clones.s3 = { url: url("s3"), region: e("AWS_REGION") || "us-east-1", accessKeyId: e("AWS_ACCESS_KEY_ID"), secretAccessKey: e("AWS_SECRET_ACCESS_KEY") };
  const runId = decodeURIComponent(new URL(admin.url!).pathname.split("/").filter(Boolean).pop() ?? "run");
  const block: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k.startsWith("MOLAR_CLONE_") || /^(STRIPE|TWILIO|RESEND|CLERK|AWS)_/.test(k))) block[k] = v;
  return new Run({ runId, status: "active", token: admin.token!, adminUrl: admin.url!, createdAt: "", expiresAt: "", clones, env: block }, null);
}

/**
 * @example
 * const run = await clones.start({ kinds: ["email"] });
 * const resend = new Resend(run.email.apiKey, run.email.config);
 * await run.clock.advance("5s");
 * await run.teardown();
 */
export const clones = {
  /**
   * A fresh run (library or service mode); or, when the environment already describes a run
   * (MOLAR_CLONE_<KIND>_URL with _ADMIN_URL and _ADMIN_TOKEN), a handle on that one.
   */
  async start(opts: StartOptions = {}): Promise<Run> {
    if (!process.env.MOLAR_CLONES_CTRL_URL) {
      const attached = attach(process.env);
      if (attached) return attached;
    }
    const b = await backend();
    const json = await call<RunJson>("POST", `${b.url}/v1/runs`, b.key, {
      runId: opts.runId,
      kinds: opts.kinds,
      seed: opts.seed,
      ttlSeconds: ttlSeconds(opts.ttl),
      metadata: opts.metadata,
      rngSeed: opts.rngSeed,
      fromSnapshot: opts.fromSnapshot,
    });
    return new Run(json, { url: b.url, key: b.key });
  },
  /** A handle on the run an env block describes (`run.env`, a written .env), spawning nothing. */
  attach(env: Record<string, string | undefined> = process.env): Run {
    const r = attach(env);
    if (!r) throw new ClonesError(0, "no_run_in_env", "No MOLAR_CLONE_<KIND>_URL in this environment: spawn with clones.start(), or load the run's env block first.");
    return r;
  },
  /** Where runs are spawned: the library instance's control URL, or MOLAR_CLONES_CTRL_URL. */
  async controlUrl(): Promise<string> {
    return (await backend()).url;
  },
  /**
   * Worlds made of several parts: snapshot them together and restore them together. With `runs`,
   * the manifest is kept by the caller (one snapshot per run); without, it covers the org's
   * registered BYOC endpoints and lives in the control plane (`/v1/fleet/worlds`).
   */
  world: {
    async snapshot(opts: { label?: string; runs?: Run[]; endpoints?: string[] } = {}): Promise<WorldManifest> {
      if (opts.runs) {
        const refs: WorldRef[] = [];
        for (const run of opts.runs) {
          const snap = await run.snapshots.save(opts.label);
          refs.push({ runId: run.runId, kinds: Object.keys(run.clones) as Kind[], snapshotId: snap.id, sha256: snap.sha256 });
        }
        return { id: `world_${Date.now().toString(36)}`, label: opts.label ?? null, createdAt: new Date().toISOString(), refs };
      }
      const b = await backend();
      return call<WorldManifest>("POST", `${b.url}/v1/fleet/worlds`, b.key, { label: opts.label, endpoints: opts.endpoints });
    },
    /** Restores every component, telling `onProgress` of each as it lands; a failed part does not stop the others. */
    async restore(world: WorldManifest | string, opts: { runs?: Run[]; onProgress?: (c: WorldComponent) => void } = {}): Promise<{ restored: boolean; components: WorldComponent[] }> {
      if (typeof world === "string") {
        const b = await backend();
        const r = await call<{ restored: boolean; components: WorldComponent[] }>("POST", `${b.url}/v1/fleet/worlds/${encodeURIComponent(world)}/restore`, b.key);
        r.components.forEach((c) => opts.onProgress?.(c));
        return r;
      }
      const components: WorldComponent[] = [];
      for (const ref of world.refs) {
        const run = opts.runs?.find((r) => r.runId === ref.runId);
        let c: WorldComponent;
        if (!run) c = { ...ref, status: "failed", error: `no handle for run ${ref.runId ?? ref.endpointId}: pass it in opts.runs` };
        else {
          try {
            await run.snapshots.restore(ref.snapshotId);
            c = { ...ref, status: "restored" };
          } catch (e) {
            c = { ...ref, status: "failed", error: (e as Error).message };
          }
        }
        components.push(c);
        opts.onProgress?.(c);
      }
      return { restored: components.every((c) => c.status === "restored"), components };
    },
    async list(): Promise<WorldManifest[]> {
      const b = await backend();
      return (await call<{ data: WorldManifest[] }>("GET", `${b.url}/v1/fleet/worlds`, b.key)).data;
    },
  },
  /** Long-lived endpoints of the org (BYOC): registered once, health-checked by the control plane. */
  fleet: {
    async register(e: { kind: Kind; apiUrl: string; adminUrl: string; adminToken: string; labels?: Record<string, string> }): Promise<FleetEndpoint> {
      const b = await backend();
      return call<FleetEndpoint>("POST", `${b.url}/v1/fleet`, b.key, e);
    },
    async list(filter: { kind?: Kind; label?: string } = {}): Promise<FleetEndpoint[]> {
      const b = await backend();
      const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]).toString();
      return (await call<{ data: FleetEndpoint[] }>("GET", `${b.url}/v1/fleet${q ? `?${q}` : ""}`, b.key)).data;
    },
    async check(id: string): Promise<FleetEndpoint> {
      const b = await backend();
      return call<FleetEndpoint>("POST", `${b.url}/v1/fleet/${encodeURIComponent(id)}/check`, b.key);
    },
    async remove(id: string): Promise<void> {
      const b = await backend();
      await call("DELETE", `${b.url}/v1/fleet/${encodeURIComponent(id)}`, b.key);
    },
  },
  /** Stops the library instance (if this process started one). */
  async stop(): Promise<void> {
    const b = library;
    library = null;
    if (b) await (await b).stop?.();
  },
};

export default clones;
