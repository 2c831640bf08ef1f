// Reference workers, each in its own workerd through Miniflare: the ceiling (a hello world) and a
// bare Durable Object call (a fetch forwarded to a SQLite-backed object doing one INSERT).
import { Miniflare } from "miniflare";

const COMPATIBILITY_DATE = "2026-07-01";

const HELLO = `export default { fetch() { return new Response("ok"); } };`;

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
export default {
  fetch(req, env) {
    return env.BARE.get(env.BARE.idFromName("bench")).fetch(req);
  },
};
`;

export interface Baseline {
  url: string;
  stop(): Promise<void>;
}

async function start(opts: ConstructorParameters<typeof Miniflare>[0] & { port: number }): Promise<Baseline> {
  const mf = new Miniflare({ host: "127.0.0.1", cf: {}, compatibilityDate: COMPATIBILITY_DATE, modules: true, ...opts });
  await mf.ready;
  return { url: `http://127.0.0.1:${opts.port}`, stop: () => mf.dispose() };
}

export function startHello(port: number): Promise<Baseline> {
  return start({ port, script: HELLO });
}

export function startBareDo(port: number): Promise<Baseline> {
  return start({ port, script: BARE_DO, durableObjects: { BARE: { className: "Bare", useSQLite: true } }, durableObjectsPersist: false });
}
