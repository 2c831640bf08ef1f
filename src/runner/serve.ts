// `molar-clones serve`: the single-node on-prem engine. The same Worker as `npm start`, but every
// listener is a Node front (TLS from files, client certificates on the admin side), the admin API
// can live on a listener of its own that the vendors' ingress never exposes, and `--kind` runs one
// clone with its admin listener, holding one long-lived run (for teams hosting one clone per service).
import fs from "node:fs";
import http from "node:http";
import crypto from "node:crypto";
import { ConfigError, KINDS, parseAddr, persistedSecret, readConfig, type Addr, type Kind, type RunnerConfig } from "./config.ts";
import { startServer, type Running } from "./server.ts";
import { front, type Front, type FrontOptions } from "./front.ts";

const API_PORTS: Record<Kind, number> = { stripe: 8001, twilio: 8002, email: 8003, auth: 8004, s3: 8005 };
const MAX_TTL_SECONDS = 30 * 86_400;

export interface ServeConfig {
  base: RunnerConfig;
  kind: Kind | null;
  tls: { key: string; cert: string } | null;
  clientCa: string | null;
  /** Full mode: MOLAR_CLONES_ADMIN_ADDR (optional). One clone: MOLAR_CLONE_ADMIN_ADDR (API port + 1000). */
  adminAddr: Addr | null;
  cloneAddr: Addr | null;
  seed: string;
  runId: string;
  adminToken: string | null;
  /** MOLAR_CLONES_PUBLIC_URLS: what runs report when clients reach the listeners by other names (an ingress, a container's port map). */
  publicUrls: Partial<Record<"control" | "admin" | Kind, string>>;
}

const readPem = (name: string, file: string) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${name}=${JSON.stringify(file)} cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
};

export function readServeConfig(env: NodeJS.ProcessEnv, flags: { kind?: string; inMemory?: boolean }, cwd = process.cwd()): ServeConfig {
  const base = readConfig(env, flags.inMemory ? ["--in-memory"] : [], cwd);
  let kind: Kind | null = null;
  if (flags.kind !== undefined) {
    if (!(KINDS as readonly string[]).includes(flags.kind)) throw new ConfigError(`--kind ${JSON.stringify(flags.kind)} must be one of ${KINDS.join(", ")}`);
    kind = flags.kind as Kind;
  }
  const certFile = env.MOLAR_CLONES_TLS_CERT_FILE;
  const keyFile = env.MOLAR_CLONES_TLS_KEY_FILE;
  if (!!certFile !== !!keyFile) throw new ConfigError("MOLAR_CLONES_TLS_CERT_FILE and MOLAR_CLONES_TLS_KEY_FILE must be set together");
  const tls = certFile && keyFile ? { cert: readPem("MOLAR_CLONES_TLS_CERT_FILE", certFile), key: readPem("MOLAR_CLONES_TLS_KEY_FILE", keyFile) } : null;
  const caFile = env.MOLAR_CLONES_CLIENT_CA_FILE;
  if (caFile && !tls) throw new ConfigError("MOLAR_CLONES_CLIENT_CA_FILE needs TLS: set MOLAR_CLONES_TLS_CERT_FILE and MOLAR_CLONES_TLS_KEY_FILE too");
  const clientCa = caFile ? readPem("MOLAR_CLONES_CLIENT_CA_FILE", caFile) : null;
  let adminAddr: Addr | null = null;
  let cloneAddr: Addr | null = null;
  if (kind) {
    cloneAddr = env.MOLAR_CLONE_ADDR ? parseAddr("MOLAR_CLONE_ADDR", env.MOLAR_CLONE_ADDR) : { host: base.control.host, port: API_PORTS[kind] };
    adminAddr = env.MOLAR_CLONE_ADMIN_ADDR ? parseAddr("MOLAR_CLONE_ADMIN_ADDR", env.MOLAR_CLONE_ADMIN_ADDR) : { host: cloneAddr.host, port: cloneAddr.port === 0 ? 0 : cloneAddr.port + 1000 };
    if (adminAddr.port !== 0 && adminAddr.port === cloneAddr.port) throw new ConfigError("MOLAR_CLONE_ADMIN_ADDR must not be MOLAR_CLONE_ADDR: the admin API never shares the vendor's listener");
  } else if (env.MOLAR_CLONES_ADMIN_ADDR) {
    adminAddr = parseAddr("MOLAR_CLONES_ADMIN_ADDR", env.MOLAR_CLONES_ADMIN_ADDR);
    const taken = [base.control, ...Object.values(base.vendors)].find((a) => a.port !== 0 && a.port === adminAddr!.port);
    if (taken) throw new ConfigError(`MOLAR_CLONES_ADMIN_ADDR port ${adminAddr.port} is already given to another listener`);
  }
  const token = env.MOLAR_CLONE_ADMIN_TOKEN;
  if (token !== undefined && token.length < 16) throw new ConfigError("MOLAR_CLONE_ADMIN_TOKEN must be at least 16 characters");
  const runId = env.MOLAR_CLONE_RUN_ID ?? kind ?? "default";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(runId)) throw new ConfigError(`MOLAR_CLONE_RUN_ID=${JSON.stringify(runId)} must match [A-Za-z0-9._-]{1,64}`);
  let publicUrls: ServeConfig["publicUrls"] = {};
  if (env.MOLAR_CLONES_PUBLIC_URLS) {
    try {
      publicUrls = JSON.parse(env.MOLAR_CLONES_PUBLIC_URLS);
      for (const [k, v] of Object.entries(publicUrls)) {
        if (!["control", "admin", ...KINDS].includes(k) || typeof v !== "string" || !/^https?:\/\/[^/]+$/.test(v)) throw new Error(k);
      }
    } catch {
      throw new ConfigError('MOLAR_CLONES_PUBLIC_URLS must be JSON like {"control":"https://clones.example.com","stripe":"https://stripe.clones.example.com"} (origins only; keys control, admin, stripe, twilio, email, auth, s3)');
    }
  }
  return { base, kind, tls, clientCa, adminAddr, cloneAddr, seed: env.MOLAR_CLONE_SEED ?? "empty", runId, adminToken: token ?? null, publicUrls };
}

export interface Served {
  urls: { control?: string; admin?: string; clone?: string } & Partial<Record<Kind, string>>;
  /** One-clone mode: the run it holds, as `GET {admin}/run` answers it. */
  run: Record<string, unknown> | null;
  adminToken: string | null;
  apiToken: string;
  stop(): Promise<void>;
}

const url = (tls: boolean, a: Addr, port: number) => `${tls ? "https" : "http"}://${a.host.includes(":") ? `[${a.host}]` : a.host}:${port}`;

/**
 * A port decided before workerd starts, so runs report it; port 0 gets a free one now, held by a
 * placeholder listener until its front opens (`release`): released at once, workerd's own
 * listeners, opened meanwhile, were sometimes given the same port.
 */
async function fixPort(a: Addr, holds: Map<string, http.Server>): Promise<Addr> {
  if (a.port !== 0) return a;
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, a.host, () => r()));
  const port = (s.address() as import("node:net").AddressInfo).port;
  holds.set(`${a.host}:${port}`, s);
  return { ...a, port };
}

async function release(holds: Map<string, http.Server>, a?: Addr): Promise<void> {
  for (const [key, s] of holds) {
    if (a && key !== `${a.host}:${a.port}`) continue;
    holds.delete(key);
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const json = (status: number, type: string, code: string, message: string) => ({ status, body: { error: { type, code, message } } });

export async function serve(cfg: ServeConfig): Promise<Served> {
  const scheme = !!cfg.tls;
  const fronts: Front[] = [];
  const holds = new Map<string, http.Server>();
  const open = async (a: Addr, port: number, o: FrontOptions, name: string) => {
    try {
      await release(holds, a);
      fronts.push(await front(a, port, { ...o, unreachable: { contentType: "text/plain", body: "The clones are not reachable." } }));
    } catch (e) {
      await Promise.all(fronts.map((f) => f.close()));
      await release(holds);
      throw new ConfigError(`${name}: cannot listen on ${a.host}:${a.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const tlsFor = (admin: boolean) => (cfg.tls ? { ...cfg.tls, ...(admin && cfg.clientCa ? { ca: cfg.clientCa } : {}) } : undefined);

  if (!cfg.kind) {
    const control = await fixPort(cfg.base.control, holds);
    const adminAddr = cfg.adminAddr ? await fixPort(cfg.adminAddr, holds) : null;
    const vendors = {} as Record<Kind, Addr>;
    for (const k of KINDS) vendors[k] = await fixPort(cfg.base.vendors[k], holds);
    const publicUrls = { control: url(scheme, control, control.port) } as Running["urls"];
    if (adminAddr) publicUrls.admin = url(scheme, adminAddr, adminAddr.port);
    for (const k of KINDS) publicUrls[k] = url(scheme, vendors[k], vendors[k].port);
    Object.assign(publicUrls, cfg.publicUrls);
    const s = await startServer(cfg.base, { internal: { publicUrls } }).catch(async (e: unknown) => {
      await release(holds);
      throw e;
    });
    try {
      await open(control, s.ports.control, {
        tls: tlsFor(true),
        route: (req) =>
          adminAddr && (req.url ?? "").startsWith("/admin/")
            ? json(404, "invalid_request", "admin_elsewhere", "The admin API is served on its own listener (MOLAR_CLONES_ADMIN_ADDR), not here.")
            : { path: req.url ?? "/" },
      }, "MOLAR_CLONES_ADDR");
      if (adminAddr) {
        await open(adminAddr, s.ports.control, {
          tls: tlsFor(true),
          route: (req) => (/^\/(admin\/|healthz$)/.test(req.url ?? "") ? { path: req.url! } : json(404, "invalid_request", "not_found", "This listener serves the admin API (/admin/v1/runs/{runId}/...) only.")),
        }, "MOLAR_CLONES_ADMIN_ADDR");
      }
      for (const k of KINDS) await open(vendors[k], s.ports[k], { tls: tlsFor(false) }, `MOLAR_CLONE_${k.toUpperCase()}_ADDR`);
    } catch (e) {
      await s.stop();
      throw e;
    }
    return {
      urls: publicUrls,
      run: null,
      adminToken: null,
      apiToken: s.apiToken,
      stop: async () => {
        await Promise.all(fronts.map((f) => f.close()));
        await s.stop();
      },
    };
  }

  // One clone: its API and an admin listener for its one run; the control API stays internal.
  const kind = cfg.kind;
  const cloneAddr = await fixPort(cfg.cloneAddr!, holds);
  const adminAddr = await fixPort(cfg.adminAddr!, holds);
  const adminUrl = cfg.publicUrls.admin ?? url(scheme, adminAddr, adminAddr.port);
  const cloneUrl = cfg.publicUrls[kind] ?? url(scheme, cloneAddr, cloneAddr.port);
  const publicUrls = { control: adminUrl, stripe: "", twilio: "", email: "", auth: "", s3: "" } as Running["urls"];
  for (const k of KINDS) publicUrls[k] = k === kind ? cloneUrl : adminUrl;
  const s = await startServer(cfg.base, { internal: { publicUrls } }).catch(async (e: unknown) => {
    await release(holds);
    throw e;
  });
  const adminToken = cfg.adminToken ?? persistedSecret(cfg.base, `${kind}-admin-token`, 24, "mca_");
  const internal = `http://127.0.0.1:${s.ports.control}`;
  const ctl = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${internal}${path}`, {
      method,
      headers: { authorization: `Bearer ${s.apiToken}`, "x-molar-actor": "api", ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, json: (await r.json().catch(() => null)) as Record<string, any> | null };
  };
  const runPath = `/v1/runs/${encodeURIComponent(cfg.runId)}`;
  // The run lives as long as the server: made (or found again in the state dir) now, extended while up.
  const existing = await ctl("GET", runPath);
  if (existing.status === 200 && existing.json?.status === "active") await ctl("POST", `${runPath}/extend`, { ttlSeconds: MAX_TTL_SECONDS });
  else {
    const made = await ctl("POST", "/v1/runs", { runId: cfg.runId, kinds: [kind], seed: cfg.seed, ttlSeconds: MAX_TTL_SECONDS, metadata: { mode: "single-clone" } });
    if (made.status !== 201) {
      await s.stop();
      await release(holds);
      throw new ConfigError(`MOLAR_CLONE_SEED / MOLAR_CLONE_RUN_ID: the run could not be made (${made.json?.error?.message ?? made.status})`);
    }
  }
  const keepAlive = setInterval(() => void ctl("POST", `${runPath}/extend`, { ttlSeconds: MAX_TTL_SECONDS }).catch(() => undefined), 6 * 3600_000);
  keepAlive.unref();

  /** The run as the admin listener describes it: its admin URL and token are the listener's own. */
  const describe = async () => {
    const r = await ctl("GET", runPath);
    if (r.status !== 200 || !r.json) return null;
    const run = r.json;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(run.env as Record<string, string>)) {
      if (!k.startsWith("MOLAR_CLONE_") || k.startsWith(`MOLAR_CLONE_${kind.toUpperCase()}_`)) env[k] = v;
    }
    env[`MOLAR_CLONE_${kind.toUpperCase()}_ADMIN_URL`] = adminUrl;
    env[`MOLAR_CLONE_${kind.toUpperCase()}_ADMIN_TOKEN`] = adminToken;
    return { ...run, adminUrl, token: adminToken, env };
  };
  const expected = Buffer.from(`Bearer ${adminToken}`);
  const authorized = (h: string | undefined) => {
    const got = Buffer.from(h ?? "");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  };
  try {
    await open(cloneAddr, s.ports[kind], { tls: tlsFor(false) }, "MOLAR_CLONE_ADDR");
    await open(adminAddr, s.ports.control, {
      tls: tlsFor(true),
      route: async (req) => {
        const u = req.url ?? "/";
        if (u === "/healthz") return { path: u };
        if (!authorized(req.headers.authorization)) return json(401, "authentication_error", "unauthorized", "Send Authorization: Bearer <MOLAR_CLONE_ADMIN_TOKEN>.");
        if (req.method === "GET" && (u === "/" || u === "/run")) {
          const run = await describe();
          return run ? { status: 200, body: run } : json(404, "invalid_request", "run_not_found", "The clone's run is gone.");
        }
        return { path: `/admin/v1/runs/${encodeURIComponent(cfg.runId)}${u}`, headers: { authorization: `Bearer ${s.apiToken}` } };
      },
    }, "MOLAR_CLONE_ADMIN_ADDR");
  } catch (e) {
    clearInterval(keepAlive);
    await s.stop();
    throw e;
  }
  return {
    urls: { admin: adminUrl, clone: cloneUrl, [kind]: cloneUrl },
    run: await describe(),
    adminToken,
    apiToken: s.apiToken,
    stop: async () => {
      clearInterval(keepAlive);
      await Promise.all(fronts.map((f) => f.close()));
      await s.stop();
    },
  };
}
