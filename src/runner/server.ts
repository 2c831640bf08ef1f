// The local runner: the Worker in workerd through Miniflare's API (not `wrangler dev`, whose
// proxy costs 6-8x in throughput), the control origin on one port and each vendor on its own.
import fs from "node:fs";
import path from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { buildWorker } from "./build.ts";
import { continueFront } from "./front.ts";
import net from "node:net";
import { KINDS, checkPortFree, persistedSecret, prepareStateDir, type Kind, type RunnerConfig } from "./config.ts";

const ENTRYPOINTS: Record<Kind, string> = { stripe: "StripeApi", twilio: "TwilioApi", email: "EmailApi", auth: "AuthApi", s3: "S3Api" };
const COMPATIBILITY_DATE = "2026-07-01";

export interface Running {
  urls: Record<"control" | Kind, string> & { admin?: string };
  /** With `internal`: the loopback ports workerd listens on, for the fronts `serve` puts before them. */
  ports: Record<"control" | Kind, number>;
  apiToken: string;
  persist: boolean;
  stateDir: string;
  /** workerd's own S3 listener, behind the Node front (benchmarks run a front in a process of its own). */
  s3InternalUrl: string;
  stop(): Promise<void>;
}

const hostOf = (h: string) => (h.includes(":") ? `[${h}]` : h);

export interface ServerOptions {
  /**
   * workerd listens on loopback ports only and `publicUrls` are what runs report: the caller
   * (`serve`) puts its own fronts (TLS, a separate admin listener, one clone) before them.
   */
  internal?: { publicUrls: Running["urls"] };
}

/** Starts everything; answers once /healthz would answer 200. */
export async function startServer(cfg: RunnerConfig, opts: ServerOptions = {}): Promise<Running> {
  // Loopback ports we pick ourselves are free when picked, but another process may take one before
  // workerd binds it (the test suite starts several runners at once): pick again, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(cfg, opts);
    } catch (e) {
      if (attempt >= 4 || (e as { code?: string }).code !== "ERR_ADDRESS_IN_USE") throw e;
    }
  }
}

async function startOnce(cfg: RunnerConfig, opts: ServerOptions): Promise<Running> {
  if (opts.internal) {
    cfg = { ...cfg, control: { host: "127.0.0.1", port: await freeLoopbackPort() }, vendors: { ...cfg.vendors } };
    for (const k of KINDS) cfg.vendors[k] = { host: "127.0.0.1", port: await freeLoopbackPort() };
  }
  await checkPortFree("MOLAR_CLONES_ADDR", cfg.control);
  for (const k of KINDS) await checkPortFree(`MOLAR_CLONE_${k.toUpperCase()}_ADDR`, cfg.vendors[k]);
  prepareStateDir(cfg);
  const apiToken = cfg.apiToken ?? persistedSecret(cfg, "dev-key", 24, "mck_dev_");
  const jwtSecret = cfg.jwtSecret ?? persistedSecret(cfg, "jwt-secret", 48);
  let urls = { control: `http://${hostOf(cfg.control.host)}:${cfg.control.port}` } as Running["urls"];
  for (const k of KINDS) urls[k] = `http://${hostOf(cfg.vendors[k].host)}:${cfg.vendors[k].port}`;
  const ports = { control: cfg.control.port } as Running["ports"];
  for (const k of KINDS) ports[k] = cfg.vendors[k].port;
  if (opts.internal) urls = opts.internal.publicUrls;

  // S3 is fronted by Node (see front.ts): workerd serves it on an internal port.
  const s3Internal = opts.internal ? cfg.vendors.s3.port : await freeLoopbackPort();
  const code = await buildWorker();
  const ram = cfg.persist ? null : ramDir();
  const mf = new Miniflare({
    host: cfg.control.host,
    port: cfg.control.port,
    log: new Log(LogLevel.WARN),
    // The clones never reach the network on their own; this stops Miniflare fetching its cf object.
    cf: {},
    modules: [{ type: "ESModule", path: path.join(process.cwd(), "molar-worker.js"), contents: code }],
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { RUN: { className: "RunWorld", useSQLite: true }, CONTROL: { className: "Control", useSQLite: true } },
    r2Buckets: ["SNAPSHOTS"],
    durableObjectsPersist: cfg.persist ? path.join(cfg.stateDir, "do") : (ram ? path.join(ram, "do") : false),
    r2Persist: cfg.persist ? path.join(cfg.stateDir, "r2") : (ram ? path.join(ram, "r2") : false),
    bindings: {
      ...cfg.env,
      MOLAR_URLS: JSON.stringify(urls),
      ...(cfg.apiToken ? { MOLAR_CLONES_API_TOKEN: cfg.apiToken } : { MOLAR_CLONES_DEV_KEY: apiToken }),
      MOLAR_JWT_SECRET: jwtSecret,
    },
    ...(cfg.inspectorPort ? { inspectorPort: cfg.inspectorPort } : {}),
    unsafeDirectSockets: KINDS.map((k) =>
      k === "s3" ? { host: "127.0.0.1", port: s3Internal, entrypoint: ENTRYPOINTS[k] } : { host: cfg.vendors[k].host, port: cfg.vendors[k].port, entrypoint: ENTRYPOINTS[k] },
    ),
  });
  try {
    await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => undefined);
    if (ram) fs.rmSync(ram, { recursive: true, force: true });
    throw e;
  }
  const front = opts.internal ? { close: async () => undefined } : await continueFront(cfg.vendors.s3, s3Internal);
  if (cfg.persist) await wakeWorlds(mf, cfg);
  const cleanup = () => {
    if (ram) fs.rmSync(ram, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  return {
    urls,
    ports,
    apiToken,
    persist: cfg.persist,
    stateDir: cfg.stateDir,
    s3InternalUrl: `http://127.0.0.1:${s3Internal}`,
    stop: async () => {
      await front.close();
      await mf.dispose();
      cleanup();
      process.off("exit", cleanup);
    },
  };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * After a restart, wakes the worlds of every configured org so their alarms are set again
 * (workerd does not fire alarms that fell due while it was down).
 */
async function wakeWorlds(mf: Miniflare, cfg: RunnerConfig): Promise<void> {
  const orgs = new Set(["default", ...Object.keys(cfg.env.MOLAR_CLONES_ORGS ? (JSON.parse(cfg.env.MOLAR_CLONES_ORGS) as object) : {})]);
  const ns = await mf.getDurableObjectNamespace("CONTROL");
  for (const org of orgs) {
    const stub = ns.get(ns.idFromName(org)) as unknown as { wake(): Promise<number> };
    await stub.wake();
  }
}

/**
 * Where in-memory mode keeps its objects. Miniflare's "not persisted" still writes every object's
 * SQLite file under the OS temp dir, and creating one there made each spawn ~6 ms slower
 * (measured); on tmpfs the files live in RAM. workerd's own in-memory storage has no SQL.
 */
function ramDir(): string | null {
  try {
    return fs.mkdtempSync("/dev/shm/molar-");
  } catch {
    return null;
  }
}
