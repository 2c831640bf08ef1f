// The dashboard: server-rendered pages on the control origin, one small island (the live request
// stream, over SSE). It reuses the control objects and each run's admin API; it never reaches a run
// of another org (runs are resolved through the signed-in org's control object only).
import { Hono, type Context } from "hono";
import type { Child, FC } from "hono/jsx";
import type { AppEnv } from "../env.ts";
import { orgForKey, quotasOf } from "../control/orgs.ts";
import { urlsOf } from "../control/urls.ts";
import { mintRunToken } from "../control/tokens.ts";
import { runJson, type RunRecord } from "../control/run-json.ts";
import { KINDS } from "../kernel/types.ts";
import { VENDORS } from "../vendors/index.ts";
import { csrfOk, endSession, readSession, startSession, type DashSession } from "./session.ts";
import { registerPages } from "./pages.tsx";
import { Csrf, Page, adminCall, control, liveStream, remaining, runOf, type C, type Env } from "./layout.tsx";

export function dashboardRouter(): Hono<Env> {
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    c.set("nonce", crypto.randomUUID().replaceAll("-", ""));
    await next();
    // Pages get the dashboard's policy; a response that set its own (framed email) keeps it.
    if (c.res.headers.has("content-security-policy")) return;
    c.header("content-security-policy", `default-src 'none'; style-src 'nonce-${c.get("nonce")}'; script-src 'nonce-${c.get("nonce")}'; connect-src 'self'; frame-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
  });

  app.get("/login", (c) =>
    c.html(
      <Page title="Sign in" nonce={c.get("nonce")}>
        <h1>Sign in</h1>
        <form method="post" action="/login">
          <p>
            <label for="key">Org API key</label>
            <input id="key" name="key" type="password" autocomplete="current-password" required size={40} />
          </p>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted">The key `npm start` printed, or MOLAR_CLONES_API_TOKEN.</p>
      </Page>,
    ),
  );

  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const found = await orgForKey(c.env, typeof form.key === "string" ? form.key : null);
    // The dashboard changes things: a read-scoped key does not open it.
    const org = found?.scope === "admin" ? found : null;
    if (!org) {
      return c.html(
        <Page title="Sign in" nonce={c.get("nonce")}>
          <h1>Sign in</h1>
          <p class="err" role="alert">That key is not an org API key here.</p>
          <p>
            <a href="/login">Try again</a>
          </p>
        </Page>,
        401,
      );
    }
    await startSession(c, org.org);
    return c.redirect("/", 303);
  });

  // Everything below needs a session; every POST below needs its CSRF token.
  app.use("*", async (c, next) => {
    const s = await readSession(c);
    if (!s) return c.redirect("/login", 303);
    c.set("session", s);
    if (c.req.method === "POST") {
      const form = await c.req.raw.clone().formData().catch(() => null);
      if (!form || !csrfOk(s, form.get("_csrf"))) return c.text("CSRF token missing or wrong.", 403);
    }
    await next();
  });

  app.post("/logout", (c) => {
    endSession(c);
    return c.redirect("/login", 303);
  });

  app.get("/", async (c) => {
    const s = c.get("session");
    const ctl = control(c.env, s.org);
    const [runs, audit, usage, refusals] = await Promise.all([ctl.list({ status: "active" }), ctl.auditTrail(15), ctl.usage(), ctl.refusals()]);
    const byKind = Object.fromEntries(KINDS.map((k) => [k, runs.filter((r) => r.kinds.includes(k)).length]));
    return c.html(
      <Page title="Overview" session={s} nonce={c.get("nonce")}>
        <h1>Overview</h1>
        <div class="cards" role="list">
          <div class="card" role="listitem">
            <b>{runs.length}</b>active sessions
          </div>
          {KINDS.map((k) => (
            <div class="card" role="listitem">
              <b>{byKind[k]}</b>
              {k}
            </div>
          ))}
          <div class="card" role="listitem">
            <b>{usage.cloneMinutes}</b>clone-minutes
          </div>
          <div class="card" role="listitem" data-testid="refusals">
            <b>{refusals}</b>live-vendor calls refused
          </div>
        </div>
        <section>
          <h2>Spawn a session</h2>
          <SpawnForm s={s} />
        </section>
        <section>
          <h2>Recent activity</h2>
          <table>
            <thead>
              <tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Session</th><th scope="col">Actor</th></tr>
            </thead>
            <tbody>
              {audit.length === 0 ? <tr><td colspan={4} class="muted">Nothing yet.</td></tr> : null}
              {audit.map((a) => (
                <tr><td>{a.at}</td><td>{a.action}</td><td>{a.runId ? <a href={`/sessions/${encodeURIComponent(a.runId)}`}>{a.runId}</a> : (a.detail ?? "").split(":")[0]}</td><td>{a.actor}</td></tr>
              ))}
            </tbody>
          </table>
        </section>
      </Page>,
    );
  });

  const SpawnForm: FC<{ s: DashSession }> = ({ s }) => (
    <form method="post" action="/sessions" class="inline">
      <Csrf s={s} />
      <label for="runId">Run id</label>
      <input id="runId" name="runId" placeholder="generated" pattern="[A-Za-z0-9._\-]{1,64}" />
      <label for="ttl">TTL (minutes)</label>
      <input id="ttl" name="ttl" type="number" min="1" max="43200" value="60" />
      <fieldset class="inline" style="border:0;padding:0;margin:0">
        <legend class="muted">Clones</legend>
        {KINDS.map((k) => (
          <label style="font-weight:400">
            <input type="checkbox" name="kinds" value={k} checked /> {k}
          </label>
        ))}
      </fieldset>
      <button type="submit">Spawn</button>
    </form>
  );

  app.get("/sessions", async (c) => {
    const s = c.get("session");
    const status = c.req.query("status") || undefined;
    const kind = c.req.query("kind") || undefined;
    const q = (c.req.query("q") ?? "").toLowerCase();
    const source = c.req.query("source") || undefined;
    const all = (await control(c.env, s.org).list({ status, kind }))
      .filter((r) => !source || r.actor === source)
      .filter((r) => !q || r.runId.toLowerCase().includes(q) || r.seed.toLowerCase().includes(q) || JSON.stringify(r.metadata).toLowerCase().includes(q));
    // A page of 100: a thousand sessions never make one heavy page.
    const PER = 100;
    const pages = Math.max(1, Math.ceil(all.length / PER));
    const pageNo = Math.min(pages, Math.max(1, Number(c.req.query("page")) || 1));
    const runs = all.slice((pageNo - 1) * PER, pageNo * PER);
    // The page's live sessions tell their clock offset, requests and snapshots (one small call each, in parallel).
    type Summary = { offsetMs: number; frozen: boolean; requests: number; snapshots: number };
    const summaries = new Map<string, Summary>(
      await Promise.all(runs.filter((r) => r.status === "active").map(async (r) => [r.runId, (await adminCall<Summary>(c, r.worldId, "GET", "/summary")).json] as const)),
    );
    const offset = (ms: number) => (ms === 0 ? "0" : ms >= 86_400_000 ? `+${(ms / 86_400_000).toFixed(1)} d` : ms >= 3_600_000 ? `+${(ms / 3_600_000).toFixed(1)} h` : `+${Math.round(ms / 1000)} s`);
    const pageLink = (n: number) => `/sessions?${new URLSearchParams({ ...(status ? { status } : {}), ...(kind ? { kind } : {}), ...(source ? { source } : {}), ...(q ? { q } : {}), page: String(n) })}`;
    return c.html(
      <Page title="Sessions" session={s} nonce={c.get("nonce")}>
        <h1>Sessions</h1>
        <form method="get" action="/sessions" class="inline" role="search">
          <label for="status">Status</label>
          <select id="status" name="status">
            {["", "active", "torn_down", "expired"].map((v) => <option value={v} selected={v === (status ?? "")}>{v || "any"}</option>)}
          </select>
          <label for="kind">Clone</label>
          <select id="kind" name="kind">
            {["", ...KINDS].map((v) => <option value={v} selected={v === (kind ?? "")}>{v || "any"}</option>)}
          </select>
          <label for="source">Source</label>
          <select id="source" name="source">
            {["", "sdk", "cli", "mcp", "ci", "dashboard", "api", "test"].map((v) => <option value={v} selected={v === (source ?? "")}>{v || "any"}</option>)}
          </select>
          <label for="q">Search</label>
          <input id="q" name="q" value={q} placeholder="run id, seed or metadata" />
          <button type="submit">Filter</button>
        </form>
        <SpawnForm s={s} />
        <form method="post" action="/sessions/bulk" id="bulk" class="inline">
          <Csrf s={s} />
          <span class="muted">Picked sessions:</span>
          <button type="submit" name="op" value="extend">Extend 1 h</button>
          <button type="submit" name="op" value="teardown" class="danger">Tear down</button>
          <a href={`/sessions.json?${new URLSearchParams({ ...(status ? { status } : {}), ...(kind ? { kind } : {}) })}`} download>Export list (JSON)</a>
        </form>
        <table>
          <caption class="muted" style="text-align:left">{`${all.length} session(s)${pages > 1 ? `, page ${pageNo} of ${pages}` : ""}`}</caption>
          <thead>
            <tr><th scope="col"><span class="muted">Pick</span></th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Clones</th><th scope="col" class="hide-sm">Seed</th><th scope="col" class="hide-sm">Clock</th><th scope="col" class="hide-sm">Requests</th><th scope="col" class="hide-sm">Snapshots</th><th scope="col">TTL left</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {runs.length === 0 ? <tr><td colspan={10} class="muted">No sessions match.</td></tr> : null}
            {runs.map((r) => (
              <tr>
                <td>{r.status === "active" ? <input type="checkbox" name="runIds" value={r.runId} form="bulk" aria-label={`Pick ${r.runId}`} /> : null}</td>
                <td><a href={`/sessions/${encodeURIComponent(r.runId)}`}>{r.runId}</a></td>
                <td>{r.status}</td>
                <td>{r.kinds.join(", ")}</td>
                <td class="hide-sm">{r.seed}</td>
                <td class="hide-sm">{summaries.has(r.runId) ? `${offset(summaries.get(r.runId)!.offsetMs)}${summaries.get(r.runId)!.frozen ? " (frozen)" : ""}` : "—"}</td>
                <td class="hide-sm">{summaries.get(r.runId)?.requests ?? "—"}</td>
                <td class="hide-sm">{summaries.get(r.runId)?.snapshots ?? "—"}</td>
                <td>{r.status === "active" ? remaining(r.expiresAt) : "—"}</td>
                <td>
                  {r.status === "active" ? (
                    <form method="post" action={`/sessions/${encodeURIComponent(r.runId)}/teardown`} class="inline">
                      <Csrf s={s} />
                      <button type="submit" class="danger" aria-label={`Tear down ${r.runId}`}>Tear down</button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {pages > 1 ? (
          <nav aria-label="Pages" class="inline">
            {pageNo > 1 ? <a href={pageLink(pageNo - 1)} rel="prev">Previous</a> : null}
            {pageNo < pages ? <a href={pageLink(pageNo + 1)} rel="next">Next</a> : null}
          </nav>
        ) : null}
      </Page>,
    );
  });

  app.post("/sessions", async (c) => {
    const s = c.get("session");
    const form = await c.req.formData();
    const kinds = form.getAll("kinds").map(String);
    const runId = String(form.get("runId") ?? "").trim();
    const ttl = Number(form.get("ttl") ?? 60);
    const org = s.org;
    const r = await control(c.env, org).spawn(
      { runId: runId || undefined, kinds: kinds.length ? kinds : undefined, ttlSeconds: Math.round(ttl * 60), seed: form.get("seed") ? String(form.get("seed")) : undefined },
      { org, actor: "dashboard", quotas: await quotasOf(c.env, org), urls: urlsOf(c.env, c.req.url) },
    );
    if ("error" in r) {
      return c.html(
        <Page title="Spawn failed" session={s} nonce={c.get("nonce")}>
          <h1>Spawn failed</h1>
          <p class="err" role="alert">{r.error.message}</p>
          <p><a href="/sessions">Back to sessions</a></p>
        </Page>,
        r.error.status as 400,
      );
    }
    return c.redirect(`/sessions/${encodeURIComponent(r.runId)}`, 303);
  });

  app.post("/sessions/:runId/teardown", async (c) => {
    await control(c.env, c.get("session").org).teardown(c.req.param("runId"), "dashboard");
    return c.redirect("/sessions", 303);
  });

  app.get("/sessions/:runId", async (c) => {
    const s = c.get("session");
    const runId = c.req.param("runId");
    const rec = await runOf(c, runId);
    if (!rec) return c.html(<Page title="Not found" session={s} nonce={c.get("nonce")}><h1>No session {runId}</h1><p><a href="/sessions">All sessions</a></p></Page>, 404);
    const urls = urlsOf(c.env, c.req.url);
    const run = runJson(rec, urls);
    if (rec.status !== "active") {
      return c.html(<Page title={runId} session={s} nonce={c.get("nonce")}><h1>{runId}</h1><p>This session is {rec.status}; its world is gone.</p></Page>);
    }
    const w = rec.worldId;
    type Rule = { id: string; kind: string; preset: string | null; status: number | null; rate: number; times: number | null; fired: number };
    type Snap = { id: string; label: string | null; createdAt: string; bytes: number };
    type Msg = { id: string; channel: string; to: string; from: string; subject?: string; text?: string; html?: string; code?: string; createdAt: string };
    type Delivery = { id: string; kind: string; url: string; event: string; status: string; attempts: number; nextAttemptAt?: string; lastError?: string };
    type Log = { at: string; kind: string; method: string; path: string; status: number; durationMs: number; errorInjected: boolean };
    const [clock, rules, snaps, inbox, deliveries, next] = await Promise.all([
      adminCall<{ now: string; frozen: boolean; offsetMs: number }>(c, w, "GET", "/clock"),
      adminCall<{ data: Rule[] }>(c, w, "GET", "/chaos/rules"),
      adminCall<{ data: Snap[] }>(c, w, "GET", "/snapshots"),
      adminCall<{ data: Msg[] }>(c, w, "GET", "/inbox"),
      adminCall<{ data: Delivery[] }>(c, w, "GET", "/webhooks/deliveries"),
      adminCall<{ data: { at: string; kind: string; type: string }[] }>(c, w, "GET", "/clock/next?limit=5"),
    ]);
    const logsRes = await c.env.RUN.get(c.env.RUN.idFromName(w)).admin(new Request("http://admin/logs?limit=50"), "/logs");
    const logs = (await logsRes.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as Log).reverse();
    const base = `/sessions/${encodeURIComponent(runId)}`;
    const env = Object.entries(run.env).map(([k, v]) => `${k}=${v}`).join("\n");
    const nonce = c.get("nonce");
    return c.html(
      <Page title={runId} session={s} nonce={nonce}>
        <h1>Session {runId}</h1>
        <p class="muted">Clones: {rec.kinds.join(", ")} · expires in {remaining(rec.expiresAt)}</p>
        <div class="grid">
          <section aria-labelledby="h-conn">
            <h2 id="h-conn">Connection</h2>
            <table>
              <tbody>
                {Object.entries(run.clones).map(([k, v]) => <tr><th scope="row">{k}</th><td><code>{(v as { url: string }).url}</code></td></tr>)}
                <tr><th scope="row">admin</th><td><code>{run.adminUrl}</code></td></tr>
              </tbody>
            </table>
            <details>
              <summary>Env block</summary>
              <pre aria-label="Env block">{env}</pre>
            </details>
            <form method="post" action={`${base}/token`} class="inline">
              <Csrf s={s} />
              <button type="submit">Mint a run token</button>
            </form>
          </section>
          <section aria-labelledby="h-clock">
            <h2 id="h-clock">Virtual clock</h2>
            <p>
              <span id="clock-now">{clock.json.now}</span> {clock.json.frozen ? <strong>(frozen)</strong> : <span class="muted">(running)</span>}
            </p>
            <form method="post" action={`${base}/clock`} class="inline">
              <Csrf s={s} />
              <label for="by">Advance by</label>
              <input id="by" name="by" value="1h" size={8} required />
              <button type="submit" name="op" value="advance">Advance</button>
              <button type="submit" name="op" value={clock.json.frozen ? "resume" : "freeze"}>{clock.json.frozen ? "Resume" : "Freeze"}</button>
            </form>
            <form method="post" action={`${base}/clock`} class="inline">
              <Csrf s={s} />
              <label for="to">Set to</label>
              <input id="to" name="to" type="datetime-local" step="1" required />
              <button type="submit" name="op" value="set">Set</button>
            </form>
            <p class="muted">Next: {next.json.data.length ? next.json.data.map((j) => `${j.type} at ${j.at}`).join("; ") : "nothing scheduled"}</p>
          </section>
        </div>
        <section aria-labelledby="h-stream">
          <h2 id="h-stream">Requests</h2>
          <p><a href={`${base}/logs.jsonl`} download>Export the log (JSONL)</a></p>
          <table>
            <thead><tr><th scope="col">At</th><th scope="col">Clone</th><th scope="col">Method</th><th scope="col">Path</th><th scope="col">Status</th><th scope="col" class="hide-sm">ms</th></tr></thead>
            <tbody id="stream">
              {logs.length === 0 ? <tr id="stream-empty"><td colspan={6} class="muted">No requests yet; they appear here live.</td></tr> : null}
              {logs.map((l) => <tr><td>{l.at}</td><td>{l.kind}</td><td>{l.method}</td><td><code>{l.path}</code></td><td>{l.status}{l.errorInjected ? " (chaos)" : ""}</td><td class="hide-sm">{l.durationMs}</td></tr>)}
            </tbody>
          </table>
          <script nonce={nonce} dangerouslySetInnerHTML={{ __html: liveStream(`${base}/stream`) }} />
        </section>
        <div class="grid">
          <section aria-labelledby="h-chaos">
            <h2 id="h-chaos">Chaos</h2>
            <table>
              <thead><tr><th scope="col">Clone</th><th scope="col">Rule</th><th scope="col">Fired</th></tr></thead>
              <tbody>
                {rules.json.data.length === 0 ? <tr><td colspan={3} class="muted">No rules.</td></tr> : null}
                {rules.json.data.map((r) => <tr><td>{r.kind}</td><td>{r.preset ?? `status ${r.status}`} · rate {r.rate}{r.times ? ` · ${r.times}×` : ""}</td><td>{r.fired}</td></tr>)}
              </tbody>
            </table>
            <form method="post" action={`${base}/chaos`} class="inline">
              <Csrf s={s} />
              <label for="preset">Preset</label>
              <select id="preset" name="preset">
                {rec.kinds.flatMap((k) => Object.keys(VENDORS[k].presets).map((p) => <option value={`${k}/${p}`}>{`${k} ${p}`}</option>))}
              </select>
              <button type="submit">Add</button>
            </form>
          </section>
          <section aria-labelledby="h-snap">
            <h2 id="h-snap">Snapshots</h2>
            <table>
              <thead><tr><th scope="col">Snapshot</th><th scope="col">Taken</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {snaps.json.data.length === 0 ? <tr><td colspan={3} class="muted">No snapshots.</td></tr> : null}
                {snaps.json.data.map((sn) => (
                  <tr>
                    <td>{sn.label ?? sn.id}<br /><code class="muted">{sn.id}</code></td>
                    <td>{sn.createdAt}</td>
                    <td>
                      <form method="post" action={`${base}/snapshots/${encodeURIComponent(sn.id)}/restore`} class="inline">
                        <Csrf s={s} />
                        <button type="submit" aria-label={`Restore ${sn.label ?? sn.id}`}>Restore</button>
                      </form>
                      <form method="post" action={`${base}/snapshots/${encodeURIComponent(sn.id)}/branch`} class="inline">
                        <Csrf s={s} />
                        <button type="submit" aria-label={`Branch a new session from ${sn.label ?? sn.id}`}>Branch</button>
                      </form>
                      <a href={`${base}/snapshots/${encodeURIComponent(sn.id)}/download`} aria-label={`Download ${sn.label ?? sn.id}`}>Download</a>
                      <form method="post" action={`${base}/snapshots/${encodeURIComponent(sn.id)}/delete`} class="inline">
                        <Csrf s={s} />
                        <button type="submit" class="danger" aria-label={`Delete ${sn.label ?? sn.id}`}>Delete</button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {snaps.json.data.length >= 2 ? (
              <form method="get" action={`${base}/snapshots/compare`} class="inline">
                <label for="cmp-a">Compare</label>
                <select id="cmp-a" name="a">{snaps.json.data.map((sn) => <option value={sn.id}>{sn.label ?? sn.id}</option>)}</select>
                <label for="cmp-b">with</label>
                <select id="cmp-b" name="b">{snaps.json.data.map((sn, i) => <option value={sn.id} selected={i === snaps.json.data.length - 1}>{sn.label ?? sn.id}</option>)}</select>
                <button type="submit">Compare</button>
              </form>
            ) : null}
            <form method="post" action={`${base}/snapshots`} class="inline">
              <Csrf s={s} />
              <label for="label">Label</label>
              <input id="label" name="label" size={14} />
              <button type="submit">Save snapshot</button>
            </form>
          </section>
        </div>
        <section aria-labelledby="h-hooks">
          <h2 id="h-hooks">Webhooks</h2>
          <table>
            <thead><tr><th scope="col">Event</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col" class="hide-sm">Next / error</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {deliveries.json.data.length === 0 ? <tr><td colspan={6} class="muted">No deliveries.</td></tr> : null}
              {deliveries.json.data.map((d) => (
                <tr>
                  <td><a href={`${base}/deliveries/${encodeURIComponent(d.id)}`}>{d.event}</a></td><td><code>{d.url}</code></td><td>{d.status}</td><td>{d.attempts}</td><td class="hide-sm">{d.nextAttemptAt ?? d.lastError ?? ""}</td>
                  <td>
                    <form method="post" action={`${base}/deliveries/${encodeURIComponent(d.id)}/redeliver`} class="inline">
                      <Csrf s={s} />
                      <button type="submit" aria-label={`Redeliver ${d.event}`}>Redeliver</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="h-inbox">
          <h2 id="h-inbox">Inbox</h2>
          {inbox.json.data.length === 0 ? <p class="muted">No messages.</p> : null}
          {inbox.json.data.map((m) => (
            <article aria-label={`${m.channel} to ${m.to}`}>
              <p>
                <strong>{m.channel}</strong> to {m.to} from {m.from} · {m.createdAt}
                {m.code ? <> · code <code>{m.code}</code></> : null}
              </p>
              {m.subject ? <p>{m.subject}</p> : null}
              {m.html ? <iframe sandbox="" title={`Email to ${m.to}`} src={`${base}/inbox/${encodeURIComponent(m.id)}`}></iframe> : <pre>{m.text ?? ""}</pre>}
            </article>
          ))}
        </section>
      </Page>,
    );
  });

  // The webhook inspector: one delivery's payload, how it is signed, every attempt, what comes next.
  const SCHEMES: Record<string, string> = {
    stripe: "Stripe-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of \"t.payload\"> with the endpoint's whsec_ secret (stripe.webhooks.constructEvent)",
    email: "svix-id, svix-timestamp, svix-signature: v1,<base64 HMAC-SHA256 of \"id.timestamp.payload\"> (Svix; resend.webhooks.verify)",
    auth: "svix-id, svix-timestamp, svix-signature: v1,<base64 HMAC-SHA256> (Svix; @clerk/backend verifyWebhook)",
    twilio: "X-Twilio-Signature: base64 HMAC-SHA1 of the URL and sorted form fields with the auth token (twilio.validateRequest)",
  };
  app.get("/sessions/:runId/deliveries/:id", async (c) => {
    const s = c.get("session");
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    type Attempt = { at: string; status: number | null; error: string | null; durationMs: number };
    const d = await adminCall<{ id: string; kind: string; url: string; event: string; status: string; attempts: number; nextAttemptAt?: string; createdAt: string; body: string; history: Attempt[] }>(
      c, rec.worldId, "GET", `/webhooks/deliveries/${encodeURIComponent(c.req.param("id"))}`,
    );
    if (d.status !== 200) return c.text("No such delivery.", 404);
    const x = d.json;
    const schedule = VENDORS[x.kind as keyof typeof VENDORS]?.retrySchedule ?? [];
    const fmt = (ms: number) => (ms >= 3_600_000 ? `${ms / 3_600_000} h` : ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`);
    let body = x.body;
    try {
      body = JSON.stringify(JSON.parse(x.body), null, 2);
    } catch {
      /* a form body (Twilio) is shown as sent */
    }
    const back = `/sessions/${encodeURIComponent(rec.runId)}`;
    return c.html(
      <Page title={`${x.event} · ${rec.runId}`} session={s} nonce={c.get("nonce")}>
        <h1>{x.event}</h1>
        <p><a href={back}>Back to {rec.runId}</a></p>
        <table>
          <tbody>
            <tr><th scope="row">To</th><td><code>{x.url}</code></td></tr>
            <tr><th scope="row">Status</th><td>{x.status} after {x.attempts} attempt(s){x.nextAttemptAt ? `; next at ${x.nextAttemptAt} (run clock)` : ""}</td></tr>
            <tr><th scope="row">Signed with</th><td>{SCHEMES[x.kind] ?? x.kind}</td></tr>
            <tr><th scope="row">Retry schedule</th><td>{schedule.length ? `after a failure: ${schedule.map(fmt).join(", ")}, then given up (kept for redelivery)` : "—"}</td></tr>
          </tbody>
        </table>
        <h2>Attempts</h2>
        <table>
          <thead><tr><th scope="col">At (run clock)</th><th scope="col">Answer</th><th scope="col">Error</th><th scope="col">ms</th></tr></thead>
          <tbody>
            {x.history.length === 0 ? <tr><td colspan={4} class="muted">Not attempted yet.</td></tr> : null}
            {x.history.map((a) => <tr><td>{a.at}</td><td>{a.status ?? "—"}</td><td>{a.error ?? ""}</td><td>{a.durationMs}</td></tr>)}
          </tbody>
        </table>
        <form method="post" action={`${back}/deliveries/${encodeURIComponent(x.id)}/redeliver`} class="inline">
          <Csrf s={s} />
          <button type="submit">Redeliver now</button>
        </form>
        <h2>Payload</h2>
        <pre tabindex={0}>{body}</pre>
      </Page>,
    );
  });

  const resolve = async (c: C) => {
    const rec = await control(c.env, c.get("session").org).get(c.req.param("runId") ?? "");
    return rec && rec.status === "active" ? rec : null;
  };

  app.get("/sessions/:runId/logs.jsonl", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const res = await c.env.RUN.get(c.env.RUN.idFromName(rec.worldId)).admin(new Request("http://admin/logs"), "/logs");
    return new Response(res.body, { headers: { "content-type": "application/x-ndjson", "content-disposition": `attachment; filename="${rec.runId}-requests.jsonl"` } });
  });

  app.post("/sessions/:runId/token", async (c) => {
    const s = c.get("session");
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const token = await mintRunToken(c.env, { org: s.org, runId: rec.runId, worldId: rec.worldId });
    return c.html(
      <Page title={`Token · ${rec.runId}`} session={s} nonce={c.get("nonce")}>
        <h1>A fresh run token</h1>
        <p>For <a href={`/sessions/${encodeURIComponent(rec.runId)}`}>{rec.runId}</a>'s admin API, valid one hour. Copy it now: it is not shown again.</p>
        <pre tabindex={0} data-testid="run-token">{token}</pre>
      </Page>,
    );
  });

  // Bulk actions from the sessions list: the checked sessions, each through the org's control object.
  app.post("/sessions/bulk", async (c) => {
    const s = c.get("session");
    const form = await c.req.formData();
    const ids = form.getAll("runIds").map(String).slice(0, 100);
    const ctl = control(c.env, s.org);
    const op = String(form.get("op") ?? "");
    for (const id of ids) {
      if (op === "teardown") await ctl.teardown(id, "dashboard");
      else if (op === "extend") await ctl.extend(id, 3600, "dashboard");
    }
    return c.redirect("/sessions", 303);
  });

  app.get("/sessions.json", async (c) => {
    const s = c.get("session");
    const runs = await control(c.env, s.org).list({ status: c.req.query("status") || undefined, kind: c.req.query("kind") || undefined });
    // The list, not the keys: credentials stay on each session's page.
    return new Response(JSON.stringify(runs.map((r) => ({ runId: r.runId, status: r.status, kinds: r.kinds, seed: r.seed, metadata: r.metadata, createdAt: new Date(r.createdAt).toISOString(), expiresAt: new Date(r.expiresAt).toISOString(), actor: r.actor })), null, 2), {
      headers: { "content-type": "application/json", "content-disposition": 'attachment; filename="sessions.json"' },
    });
  });

  app.get("/sessions/:runId/stream", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    return c.env.RUN.get(c.env.RUN.idFromName(rec.worldId)).admin(new Request("http://admin/logs/stream"), "/logs/stream");
  });

  // An email's HTML, as an opaque-origin, script-less document (the workspace frames it sandboxed).
  app.get("/sessions/:runId/inbox/:id", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const inbox = await adminCall<{ data: { id: string; html?: string }[] }>(c, rec.worldId, "GET", "/inbox");
    const m = inbox.json.data.find((x) => x.id === c.req.param("id"));
    if (!m?.html) return c.text("No such message.", 404);
    return new Response(m.html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
        "x-content-type-options": "nosniff",
      },
    });
  });

  app.post("/sessions/:runId/clock", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const form = await c.req.formData();
    const op = String(form.get("op") ?? "advance");
    // A datetime-local value has no zone: the dashboard speaks UTC, as the clock's ISO readout does.
    const to = String(form.get("to") ?? "");
    const r = op === "advance"
      ? await adminCall<{ error?: { message: string } }>(c, rec.worldId, "POST", "/clock/advance", { by: String(form.get("by") ?? "") })
      : op === "set"
        ? await adminCall<{ error?: { message: string } }>(c, rec.worldId, "POST", "/clock/advance", { to: /Z$|[+-]\d\d:\d\d$/.test(to) ? to : `${to}Z` })
        : await adminCall(c, rec.worldId, "POST", op === "freeze" ? "/clock/freeze" : "/clock/resume");
    if (r.status >= 400) return c.text(`Clock: ${(r.json as { error?: { message: string } }).error?.message ?? r.status}`, r.status as 400);
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  app.post("/sessions/:runId/chaos", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const [kind, preset] = String((await c.req.formData()).get("preset") ?? "").split("/");
    const r = await adminCall(c, rec.worldId, "POST", `/chaos/presets/${encodeURIComponent(kind)}/${encodeURIComponent(preset ?? "")}`, {});
    if (r.status >= 400) return c.text("Unknown preset.", 422);
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  app.post("/sessions/:runId/snapshots", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const label = String((await c.req.formData()).get("label") ?? "").trim();
    await adminCall(c, rec.worldId, "POST", "/snapshots", label ? { label } : {});
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  app.get("/sessions/:runId/snapshots/compare", async (c) => {
    const s = c.get("session");
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const a = c.req.query("a") ?? "";
    const b = c.req.query("b") ?? "";
    type Entry = { kind: string; type: string; id: string };
    const d = await adminCall<{ added?: Entry[]; removed?: Entry[]; changed?: Entry[]; error?: { message: string } }>(c, rec.worldId, "GET", `/snapshots/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`);
    if (d.status >= 400) return c.text(`Compare: ${d.json.error?.message ?? d.status}`, d.status as 404);
    const rows = (["added", "removed", "changed"] as const).flatMap((what) => (d.json[what] ?? []).map((e) => ({ what, ...e })));
    return c.html(
      <Page title={`Compare snapshots · ${rec.runId}`} session={s} nonce={c.get("nonce")}>
        <h1>Compare snapshots</h1>
        <p><a href={`/sessions/${encodeURIComponent(rec.runId)}`}>Back to {rec.runId}</a> · from <code>{a}</code> to <code>{b}</code></p>
        <table>
          <thead><tr><th scope="col">Change</th><th scope="col">Clone</th><th scope="col">Type</th><th scope="col">Id</th></tr></thead>
          <tbody>
            {rows.length === 0 ? <tr><td colspan={4} class="muted">No differences.</td></tr> : null}
            {rows.map((r) => <tr><td>{r.what}</td><td>{r.kind}</td><td>{r.type}</td><td><code>{r.id}</code></td></tr>)}
          </tbody>
        </table>
      </Page>,
    );
  });

  app.get("/sessions/:runId/snapshots/:id/download", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const id = c.req.param("id");
    const req = new Request(`http://admin/snapshots/${encodeURIComponent(id)}`, { headers: { accept: "application/gzip" } });
    const res = await c.env.RUN.get(c.env.RUN.idFromName(rec.worldId)).admin(req, `/snapshots/${encodeURIComponent(id)}`);
    if (!res.ok) return c.text("No such snapshot.", 404);
    return new Response(res.body, { headers: { "content-type": "application/gzip", "content-disposition": `attachment; filename="${rec.runId}-${id}.molar.gz"` } });
  });

  app.post("/sessions/:runId/snapshots/:id/delete", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    await adminCall(c, rec.worldId, "DELETE", `/snapshots/${encodeURIComponent(c.req.param("id"))}`);
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  app.post("/sessions/:runId/snapshots/:id/branch", async (c) => {
    const s = c.get("session");
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    const r = await control(c.env, s.org).spawn(
      { kinds: rec.kinds, fromSnapshot: { runId: rec.runId, snapshotId: c.req.param("id") }, ttlSeconds: 3600, metadata: { branchedFrom: rec.runId } },
      { org: s.org, actor: "dashboard", quotas: await quotasOf(c.env, s.org), urls: urlsOf(c.env, c.req.url) },
    );
    if ("error" in r) return c.text(`Branch: ${r.error.message}`, r.error.status as 400);
    return c.redirect(`/sessions/${encodeURIComponent(r.runId)}`, 303);
  });

  app.post("/sessions/:runId/snapshots/:id/restore", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    await adminCall(c, rec.worldId, "POST", `/snapshots/${encodeURIComponent(c.req.param("id"))}/restore`);
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  app.post("/sessions/:runId/deliveries/:id/redeliver", async (c) => {
    const rec = await resolve(c);
    if (!rec) return c.text("No such session.", 404);
    await adminCall(c, rec.worldId, "POST", `/webhooks/deliveries/${encodeURIComponent(c.req.param("id"))}/redeliver`);
    return c.redirect(`/sessions/${encodeURIComponent(rec.runId)}`, 303);
  });

  registerPages(app);
  return app;
}
