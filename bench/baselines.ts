// Reference workers, each in its own workerd through Miniflare: the ceiling (a hello world) and a
// bare Durable Object call (a fetch forwarded to a SQLite-backed object doing one INSERT). Both are
// served the way the runner serves a vendor: a WorkerEntrypoint on a direct socket, with object
// storage on tmpfs, so the overhead row compares like with like.
import fs from "node:fs";
import { Miniflare } from "miniflare";

const COMPATIBILITY_DATE = "2026-07-01";

const HELLO = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Front extends WorkerEntrypoint { fetch() { return new Response("ok"); } }
export default { fetch() { return new Response("ok"); } };
`;

const BARE_DO = `
import { DurableObject } from "cloudflare:workers";
export class Bare extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, path TEXT NOT NULL)");
  }
  async fetch(req) {
    this.ctx.storage.sql.exec("INSERT INTO hits (at, path) VALUES (?, ?)", Date.now(), new URL(req.url).pathname);
    return new Response("ok");
  }
}
import { WorkerEntrypoint } from "cloudflare:workers";
export class Front extends WorkerEntrypoint {
  fetch(req) {
    return this.env.BARE.get(this.env.BARE.idFromName("bench")).fetch(req);
  }
}
export default { fetch() { return new Response("main"); } };
`;

export interface Baseline {
  url: string;
  stop(): Promise<void>;
}

async function start(opts: Record<string, unknown> & { port: number }): Promise<Baseline> {
  const { port, ...rest } = opts;
  const ram = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/molar-bench-") : null;
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: {},
    compatibilityDate: COMPATIBILITY_DATE,
    modules: true,
    durableObjectsPersist: ram ?? false,
    unsafeDirectSockets: [{ host: "127.0.0.1", port, entrypoint: "Front" }],
    ...(rest as object),
  } as ConstructorParameters<typeof Miniflare>[0]);
  await mf.ready;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await mf.dispose();
      if (ram) fs.rmSync(ram, { recursive: true, force: true });
    },
  };
}

export function startHello(port: number): Promise<Baseline> {
  return start({ port, script: HELLO });
}

export function startBareDo(port: number): Promise<Baseline> {
  return start({ port, script: BARE_DO, durableObjects: { BARE: { className: "Bare", useSQLite: true } } });
}
