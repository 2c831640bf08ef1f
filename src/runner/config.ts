// Start-up configuration from env and flags. Every mistake is one clear line naming the setting.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import crypto from "node:crypto";

export const KINDS = ["stripe", "twilio", "email", "auth", "s3"] as const;
export type Kind = (typeof KINDS)[number];
const DEFAULT_PORTS: Record<Kind, number> = { stripe: 8001, twilio: 8002, email: 8003, auth: 8004, s3: 8005 };

export class ConfigError extends Error {}

export interface Addr {
  host: string;
  port: number;
}

export interface RunnerConfig {
  control: Addr;
  vendors: Record<Kind, Addr>;
  persist: boolean;
  stateDir: string;
  apiToken: string | null;
  jwtSecret: string | null;
  env: Record<string, string>;
  /** Chrome DevTools / CDP port into workerd, for profiling (MOLAR_CLONES_INSPECTOR_PORT). */
  inspectorPort: number | null;
}

export function parseAddr(name: string, value: string): Addr {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${name}=${JSON.stringify(value)} is not host:port (e.g. 127.0.0.1:8000)`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** Reads the configuration from `env` and `argv`; throws ConfigError on the first bad setting. */
export function readConfig(env: NodeJS.ProcessEnv, argv: string[], cwd = process.cwd()): RunnerConfig {
  for (const a of argv) if (a !== "--in-memory") throw new ConfigError(`unknown flag ${a} (the only flag is --in-memory)`);
  const control = parseAddr("MOLAR_CLONES_ADDR", env.MOLAR_CLONES_ADDR ?? "127.0.0.1:8000");
  const vendors = {} as Record<Kind, Addr>;
  for (const k of KINDS) {
    const name = `MOLAR_CLONE_${k.toUpperCase()}_ADDR`;
    vendors[k] = env[name] ? parseAddr(name, env[name]!) : { host: control.host, port: DEFAULT_PORTS[k] };
  }
  const p = env.MOLAR_CLONES_PERSIST;
  if (p !== undefined && p !== "0" && p !== "1") throw new ConfigError(`MOLAR_CLONES_PERSIST=${JSON.stringify(p)} must be 0 or 1`);
  const persist = !argv.includes("--in-memory") && p !== "0";
  const stateDir = path.resolve(cwd, env.MOLAR_CLONES_STATE_DIR ?? ".molar");
  const token = env.MOLAR_CLONES_API_TOKEN;
  if (token !== undefined && token.length < 16) throw new ConfigError("MOLAR_CLONES_API_TOKEN must be at least 16 characters");
  const jwt = env.MOLAR_JWT_SECRET;
  if (jwt !== undefined && jwt.length < 32) throw new ConfigError("MOLAR_JWT_SECRET must be at least 32 characters");
  const passthrough: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && (/^MOLAR_QUOTA_/.test(k) || k === "MOLAR_CLONES_ORGS" || k === "MOLAR_AUTH_FAILURES_PER_MINUTE" || k === "MOLAR_WEBHOOK_TIMEOUT_MS" || k === "MOLAR_STATIC_TOKEN")) passthrough[k] = v;
  }
  for (const [k, v] of Object.entries(passthrough)) {
    if ((k.startsWith("MOLAR_QUOTA_") || k === "MOLAR_AUTH_FAILURES_PER_MINUTE" || k === "MOLAR_WEBHOOK_TIMEOUT_MS") && !/^\d+$/.test(v)) throw new ConfigError(`${k}=${JSON.stringify(v)} must be a positive integer`);
    if (k === "MOLAR_CLONES_ORGS") {
      try {
        JSON.parse(v);
      } catch {
        throw new ConfigError("MOLAR_CLONES_ORGS must be JSON: {\"<org>\": {\"key\": \"...\"}}");
      }
    }
  }
  const all = [control, ...Object.values(vendors)].map((a) => a.port);
  const dup = all.find((port, i) => port !== 0 && all.indexOf(port) !== i);
  if (dup !== undefined) throw new ConfigError(`port ${dup} is given to two listeners (check MOLAR_CLONES_ADDR and MOLAR_CLONE_<KIND>_ADDR)`);
  const insp = env.MOLAR_CLONES_INSPECTOR_PORT;
  if (insp !== undefined && !/^\d{1,5}$/.test(insp)) throw new ConfigError(`MOLAR_CLONES_INSPECTOR_PORT=${JSON.stringify(insp)} must be a port number`);
  return { control, vendors, persist, stateDir, apiToken: token ?? null, jwtSecret: jwt ?? null, env: passthrough, inspectorPort: insp ? Number(insp) : null };
}

/** Fails with the setting's name when a port is taken, before anything starts. */
export async function checkPortFree(name: string, a: Addr): Promise<void> {
  if (a.port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(new ConfigError(`${name}: ${a.host}:${a.port} is ${e.code === "EADDRINUSE" ? "already in use" : `unusable (${e.code})`}`)),
    );
    s.listen(a.port, a.host, () => s.close(() => resolve()));
  });
}

/** Reads a secret persisted under the state dir, making it once. */
export function persistedSecret(cfg: RunnerConfig, file: string, bytes: number, prefix = ""): string {
  const make = () => prefix + crypto.randomBytes(bytes).toString("base64url");
  if (!cfg.persist) return make();
  const p = path.join(cfg.stateDir, file);
  try {
    return fs.readFileSync(p, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`MOLAR_CLONES_STATE_DIR: cannot read ${p} (${(e as NodeJS.ErrnoException).code})`);
  }
  const v = make();
  fs.writeFileSync(p, v + "\n", { mode: 0o600 });
  return v;
}

export function prepareStateDir(cfg: RunnerConfig): void {
  if (!cfg.persist) return;
  try {
    fs.mkdirSync(cfg.stateDir, { recursive: true });
    fs.accessSync(cfg.stateDir, fs.constants.R_OK | fs.constants.W_OK);
  } catch (e) {
    throw new ConfigError(`MOLAR_CLONES_STATE_DIR: ${cfg.stateDir} is not a writable directory (${(e as NodeJS.ErrnoException).code})`);
  }
}
