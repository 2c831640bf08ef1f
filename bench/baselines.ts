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
    const url = new URL(req.url);
    if (url.pathname === "/floor") return this.floor(Number(url.searchParams.get("rows")));
    this.ctx.storage.sql.exec("INSERT INTO hits (at, path) VALUES (?, ?)", Date.now(), url.pathname);
    return new Response("ok");
  }
  // n rows shaped like a Stripe resource row (a random-looking text id as primary key, a seq
  // index, an empty body) inserted by one statement in one transaction: the least that writing
  // n objects costs in a Durable Object's SQLite, whatever the code around it.
  floor(n) {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec("DROP TABLE IF EXISTS floor");
      sql.exec("CREATE TABLE floor (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, created INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL, internal TEXT)");
      sql.exec("CREATE INDEX floor_seq ON floor (seq)");
    });
    this.ctx.storage.transactionSync(() =>
      sql.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) INSERT INTO floor SELECT printf('evt_%08x%08x', (i * 2654435761) % 4294967296, i), i, 0, 0, '', NULL FROM c", n),
    );
    const rows = sql.exec("SELECT count(*) AS n FROM floor").one().n;
    this.ctx.storage.transactionSync(() => sql.exec("DROP TABLE floor"));
    return Response.json({ rows });
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

// A Worker that POSTs `n` small forms to `url`, `c` at a time, and answers the milliseconds it took:
// the floor under any clone's webhook deliveries (one HTTP request each) on this machine.
const FETCH_FLOOR = `
export default {
  async fetch(req) {
    const q = new URL(req.url).searchParams;
    const url = q.get("url"), n = Number(q.get("n")), c = Number(q.get("c"));
    const body = "ErrorCode=&SmsSid=SM00000000000000000000000000000000&SmsStatus=delivered&MessageStatus=delivered&To=%2B14155550100&MessageSid=SM00000000000000000000000000000000&AccountSid=AC00000000000000000000000000000000&From=%2B15005550006&ApiVersion=2010-04-01";
    let next = 0, failed = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
        await r.arrayBuffer();
        if (!r.ok) failed++;
      }
    }));
    return Response.json({ ms: performance.now() - t0, failed });
  },
};
`;

/** Times `n` POSTs from a bare workerd to `url`, `concurrency` in flight. */
export async function fetchFloor(url: string, n: number, concurrency: number): Promise<{ ms: number; failed: number }> {
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, cf: {}, compatibilityDate: COMPATIBILITY_DATE, modules: true, script: FETCH_FLOOR } as ConstructorParameters<typeof Miniflare>[0]);
  try {
    const r = await mf.dispatchFetch(`http://floor.test/?url=${encodeURIComponent(url)}&n=${n}&c=${concurrency}`);
    return (await r.json()) as { ms: number; failed: number };
  } finally {
    await mf.dispose();
  }
}
