// The dashboard's frame: the page layout, its stylesheet, and the calls every page makes.
import type { Context } from "hono";
import type { Child, FC } from "hono/jsx";
import type { AppEnv } from "../env.ts";
import type { RunRecord } from "../control/run-json.ts";
import type { DashSession } from "./session.ts";

export type Env = { Bindings: AppEnv; Variables: { session: DashSession; nonce: string } };
export type C = Context<Env>;

export const control = (env: AppEnv, org: string) => env.CONTROL.get(env.CONTROL.idFromName(org));

export const CSS = `
:root{--fg:#111;--muted:#555;--bg:#fff;--line:#d0d0d0;--accent:#0b57d0;--bad:#a50e0e;--ok:#0d652d}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1.5rem;align-items:center;padding:.75rem 1.25rem;border-bottom:1px solid var(--line);flex-wrap:wrap}
header strong{font-size:1.05rem}nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;min-width:0}nav a{color:var(--accent)}main{padding:1.25rem;max-width:80rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.25rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600}code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f4f4f4;padding:.75rem;overflow:auto;max-height:16rem}
section{margin-bottom:1.75rem}h1{font-size:1.4rem}h2{font-size:1.1rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
form.inline{display:inline-flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:.2rem 0}
label{font-weight:600;margin-right:.25rem}input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid #767676;border-radius:4px;background:#fff;color:var(--fg)}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}button.danger{background:var(--bad);border-color:var(--bad)}
:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}.muted{color:var(--muted)}.err{color:var(--bad);font-weight:600}.ok{color:var(--ok)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1.25rem}iframe{width:100%;height:14rem;border:1px solid var(--line)}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid var(--line);padding:.75rem 1rem;border-radius:6px;min-width:10rem}.card b{font-size:1.4rem;display:block}
@media (max-width:600px){main{padding:.75rem}th,td{padding:.25rem}.hide-sm{display:none}table{display:block;overflow-x:auto}code{word-break:break-all}}`;

export const Page: FC<{ title: string; session?: DashSession | null; nonce: string; children?: Child }> = ({ title, session, nonce, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width,initial-scale=1" />
      <title>{`${title} · Molar Clones`}</title>
      <style nonce={nonce} dangerouslySetInnerHTML={{ __html: CSS }} />
    </head>
    <body>
      <header>
        <strong>Molar Clones</strong>
        {session ? (
          <>
            <nav aria-label="Main">
              <a href="/">Overview</a>
              <a href="/sessions">Sessions</a>
              <a href="/clones/stripe">Explorers</a>
              <a href="/library">Library</a>
              <a href="/fleet">Fleet</a>
              <a href="/observability">Observability</a>
              <a href="/billing">Usage</a>
              <a href="/settings">Settings</a>
              <a href="/developers">Developers</a>
            </nav>
            <span class="muted">org {session.org}</span>
            <form method="post" action="/logout" class="inline">
              <input type="hidden" name="_csrf" value={session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : null}
      </header>
      <main id="main">{children}</main>
    </body>
  </html>
);

/** The workspace's one island: new requests appear at the top of the table as they happen. */
export const liveStream = (url: string) => `(() => {
  const tbody = document.getElementById("stream");
  const es = new EventSource(${JSON.stringify(url)});
  es.onopen = () => { tbody.dataset.live = "true"; };
  es.onmessage = (e) => {
    const l = JSON.parse(e.data);
    document.getElementById("stream-empty")?.remove();
    const tr = document.createElement("tr");
    for (const v of [l.at, l.kind, l.method, l.path, l.status + (l.errorInjected ? " (chaos)" : ""), l.durationMs]) {
      const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
    }
    tr.lastChild.className = "hide-sm";
    tbody.prepend(tr);
  };
})();`;

export const Csrf: FC<{ s: DashSession }> = ({ s }) => <input type="hidden" name="_csrf" value={s.csrf} />;

export function remaining(expiresAt: number): string {
  const s = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

/** Calls the run's own admin API (the same code the HTTP admin API runs). */
export async function adminCall<T>(c: C, worldId: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const req = new Request(`http://admin${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const res = await c.env.RUN.get(c.env.RUN.idFromName(worldId)).admin(req, path.split("?")[0]);
  return { status: res.status, json: (await res.json()) as T };
}

export const runOf = (c: C, runId: string): Promise<RunRecord | null> => control(c.env, c.get("session").org).get(runId);

