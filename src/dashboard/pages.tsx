// The dashboard's org-wide pages: vendor explorers, the preset library, the fleet (BYOC),
// observability and usage. Every read goes through the signed-in org's control object.
import type { Hono } from "hono";
import type { FC } from "hono/jsx";
import { urlsOf } from "../control/urls.ts";
import { KINDS, type Kind } from "../kernel/types.ts";
import { VENDORS } from "../vendors/index.ts";
import { SEEDS } from "../../durable-objects/control.ts";
import { SAMPLE, orgStats } from "../control/metrics.ts";
import { quotasOf } from "../control/orgs.ts";
import { GOLDEN_SEEDS } from "../control/seeds.ts";
import type { PresetInfo } from "../control/presets.ts";
import type { FleetEntry } from "../control/fleet.ts";
import { Csrf, Page, adminCall, control, type C, type Env } from "./layout.tsx";

const fmt = (v: number | null) => (v === null ? "—" : String(v));

async function sessionsWith(c: C, kind: Kind) {
  return (await control(c.env, c.get("session").org).list({ status: "active", kind })).slice(0, 200);
}

export function registerPages(app: Hono<Env>): void {
  // ---- vendor explorers: one session's resources of one vendor, by type
  app.get("/clones/:kind", async (c) => {
    const s = c.get("session");
    const kind = c.req.param("kind") as Kind;
    if (!KINDS.includes(kind)) return c.text("No such clone.", 404);
    const runs = await sessionsWith(c, kind);
    const runId = c.req.query("session") ?? runs[0]?.runId ?? null;
    const rec = runId ? runs.find((r) => r.runId === runId) ?? null : null;
    const type = c.req.query("type") ?? null;
    const res = rec ? (await adminCall<{ counts: Record<string, Record<string, number>>; routes: Record<string, number> }>(c, rec.worldId, "GET", "/resources")).json : null;
    const counts = res?.counts[kind] ?? {};
    const page = rec && type
      ? await adminCall<{ data?: Record<string, unknown>[]; hasMore?: boolean }>(c, rec.worldId, "GET", `/resources/${kind}/${encodeURIComponent(type)}?limit=25${c.req.query("after") ? `&after=${encodeURIComponent(c.req.query("after")!)}` : ""}`)
      : null;
    const rows = page?.json.data ?? [];
    const link = (t: string) => `/clones/${kind}?session=${encodeURIComponent(rec!.runId)}&type=${encodeURIComponent(t)}`;
    return c.html(
      <Page title={`${kind} explorer`} session={s} nonce={c.get("nonce")}>
        <h1>{kind} explorer</h1>
        <p>
          {KINDS.map((k) => (
            <a href={`/clones/${k}`} style="margin-right:1rem" aria-current={k === kind ? "page" : undefined}>{k}</a>
          ))}
        </p>
        {res ? <p class="muted" data-testid="coverage">{`${res.routes[kind] ?? 0} method + path patterns served by this clone; anything else answers ${kind}'s own 501.`}</p> : null}
        {runs.length === 0 ? (
          <p class="muted">No active session has a {kind} clone. Spawn one from the overview.</p>
        ) : (
          <form method="get" action={`/clones/${kind}`} class="inline">
            <label for="session">Session</label>
            <select id="session" name="session">
              {runs.map((r) => (
                <option value={r.runId} selected={r.runId === rec?.runId}>{r.runId}</option>
              ))}
            </select>
            <button type="submit">Show</button>
          </form>
        )}
        {rec ? (
          <div class="grid">
            <section>
              <h2>Types</h2>
              <table>
                <thead><tr><th scope="col">Type</th><th scope="col">Count</th></tr></thead>
                <tbody>
                  {Object.entries(counts).map(([t, n]) => (
                    <tr><td><a href={link(t)}>{t}</a></td><td>{n}</td></tr>
                  ))}
                </tbody>
              </table>
              <p><a href={`/sessions/${encodeURIComponent(rec.runId)}`}>Open the session's workspace</a> (its inbox shows the emails and SMS these resources sent).</p>
            </section>
            <section>
              <h2>{type ?? "Pick a type"}</h2>
              {type && rows.length === 0 ? <p class="muted">None yet.</p> : null}
              {rows.map((r) => (
                <details>
                  <summary><code>{String(r.id ?? Object.values(r)[0])}</code></summary>
                  <pre tabindex={0}>{JSON.stringify(r, (_k, v) => (typeof v === "string" && /^[{[]/.test(v) ? safeParse(v) : v), 2)}</pre>
                </details>
              ))}
              {page?.json.hasMore ? <p><a href={`${link(type!)}&after=${encodeURIComponent(String(rows[rows.length - 1].id))}`}>Next page</a></p> : null}
            </section>
          </div>
        ) : null}
      </Page>,
    );
  });

  // ---- preset library: the seeds a session can start from and every chaos preset
  app.get("/library", async (c) => {
    const s = c.get("session");
    const ctl = control(c.env, s.org);
    const [orgPresets, active] = await Promise.all([ctl.presetList() as unknown as Promise<PresetInfo[]>, ctl.list({ status: "active" })]);
    return c.html(
      <Page title="Library" session={s} nonce={c.get("nonce")}>
        <h1>Preset library</h1>
        <section>
          <h2>Seeds</h2>
          <table>
            <thead><tr><th scope="col">Seed</th><th scope="col">What it holds</th><th scope="col">Spawn</th></tr></thead>
            <tbody>
              {SEEDS.map((seed) => (
                <tr>
                  <td><code>{seed}</code></td>
                  <td>{seed === "empty" ? "Nothing: every clone starts blank." : GOLDEN_SEEDS[seed]?.description ?? seed}</td>
                  <td>
                    <form method="post" action="/sessions" class="inline">
                      <Csrf s={s} />
                      <input type="hidden" name="seed" value={seed} />
                      <input type="hidden" name="ttl" value="60" />
                      {KINDS.map((k) => <input type="hidden" name="kinds" value={k} />)}
                      <button type="submit" aria-label={`Spawn a session from seed ${seed}`}>Spawn</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted">A saved snapshot is a seed too: branch a new session from it on the session's page, or with <code>fromSnapshot</code> in <code>POST /v1/runs</code>; export and import bundles with <code>molar-clones snapshot export|import</code>.</p>
        </section>
        <section>
          <h2>This org's presets</h2>
          <table>
            <thead><tr><th scope="col">Seed</th><th scope="col">Clones</th><th scope="col" class="hide-sm">Saved from</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {orgPresets.length === 0 ? <tr><td colspan={4} class="muted">None yet: save a session below, or import one.</td></tr> : null}
              {orgPresets.map((p) => (
                <tr>
                  <td><code>{p.seed}</code>{p.description ? <div class="muted">{p.description}</div> : null}</td>
                  <td>{p.kinds.join(", ")}</td>
                  <td class="hide-sm">{p.source ?? "—"}{p.chaos.length ? ` · ${p.chaos.length} chaos rule(s)` : ""}</td>
                  <td>
                    <form method="post" action="/sessions" class="inline">
                      <Csrf s={s} />
                      <input type="hidden" name="seed" value={p.seed} />
                      <input type="hidden" name="ttl" value="60" />
                      {p.kinds.map((k) => <input type="hidden" name="kinds" value={k} />)}
                      <button type="submit" aria-label={`Spawn a session from ${p.seed}`}>Spawn</button>
                    </form>
                    <a href={`/library/presets/${encodeURIComponent(p.name)}.json`} download aria-label={`Export ${p.seed}`}>Export</a>
                    <form method="post" action={`/library/presets/${encodeURIComponent(p.name)}/delete`} class="inline">
                      <Csrf s={s} />
                      <button type="submit" class="danger" aria-label={`Delete ${p.seed}`}>Delete</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {active.length ? (
            <form method="post" action="/library/presets" class="inline">
              <Csrf s={s} />
              <label for="p-run">Save session</label>
              <select id="p-run" name="runId">{active.slice(0, 200).map((r) => <option value={r.runId}>{r.runId}</option>)}</select>
              <label for="p-name">as</label>
              <input id="p-name" name="name" required pattern="[a-z0-9][a-z0-9._\-]{0,63}" placeholder="checkout-ready" />
              <button type="submit">Save preset</button>
            </form>
          ) : null}
          <form method="post" action="/library/presets/import" enctype="multipart/form-data" class="inline">
            <Csrf s={s} />
            <label for="p-file">Import a preset</label>
            <input id="p-file" name="file" type="file" accept="application/json,.json" required />
            <button type="submit">Import</button>
          </form>
        </section>
        <section>
          <h2>Chaos presets</h2>
          <table>
            <thead><tr><th scope="col">Clone</th><th scope="col">Preset</th><th scope="col">Does</th></tr></thead>
            <tbody>
              {KINDS.flatMap((k) =>
                Object.entries(VENDORS[k].presets ?? {}).map(([name, p]) => (
                  <tr><td>{k}</td><td><code>{name}</code></td><td>{(p as { description?: string }).description ?? ""}</td></tr>
                )),
              )}
            </tbody>
          </table>
          <p class="muted">Add one to a session from its workspace, or <code>POST {"{adminUrl}"}/chaos/presets/{"{kind}/{preset}"}</code>.</p>
        </section>
      </Page>,
    );
  });

  app.post("/library/presets", async (c) => {
    const f = await c.req.formData();
    const r = await control(c.env, c.get("session").org).presetSave({ runId: f.get("runId"), name: f.get("name") }, "dashboard");
    if ("error" in r) return c.text(`Preset: ${r.error.message}`, r.error.status as 422);
    return c.redirect("/library", 303);
  });
  app.post("/library/presets/import", async (c) => {
    const file = (await c.req.formData()).get("file");
    let doc: unknown = null;
    try {
      doc = typeof file === "object" && file ? JSON.parse(await (file as File).text()) : null;
    } catch {
      doc = null;
    }
    if (!doc || typeof doc !== "object") return c.text("Preset: that file is not a preset document.", 422);
    const r = await control(c.env, c.get("session").org).presetImport(doc as Record<string, unknown>);
    if ("error" in r) return c.text(`Preset: ${r.error.message}`, r.error.status as 422);
    return c.redirect("/library", 303);
  });
  app.get("/library/presets/:file", async (c) => {
    const name = c.req.param("file").replace(/\.json$/, "");
    const doc = await control(c.env, c.get("session").org).presetExport(name);
    if ("error" in doc) return c.text("No such preset.", 404);
    return new Response(JSON.stringify(doc), { headers: { "content-type": "application/json", "content-disposition": `attachment; filename="${name}.molar-preset.json"` } });
  });
  app.post("/library/presets/:name/delete", async (c) => {
    await control(c.env, c.get("session").org).presetDelete(c.req.param("name"));
    return c.redirect("/library", 303);
  });

  // ---- fleet (BYOC): long-lived endpoints per kind
  app.get("/fleet", async (c) => {
    const s = c.get("session");
    const entries = (await control(c.env, s.org).fleetList({})) as FleetEntry[];
    return c.html(
      <Page title="Fleet" session={s} nonce={c.get("nonce")}>
        <h1>Fleet &amp; BYOC</h1>
        <p class="muted">Long-lived clone endpoints of this org (for example <code>molar-clones serve --kind stripe</code>), checked every minute.</p>
        <table>
          <thead>
            <tr><th scope="col">Kind</th><th scope="col">API</th><th scope="col" class="hide-sm">Admin</th><th scope="col">Labels</th><th scope="col">Health</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {entries.length === 0 ? <tr><td colspan={6} class="muted">No endpoints registered.</td></tr> : null}
            {entries.map((e) => (
              <tr>
                <td>{e.kind}</td>
                <td><code>{e.apiUrl}</code></td>
                <td class="hide-sm"><code>{e.adminUrl}</code></td>
                <td>{Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(", ")}</td>
                <td>
                  <span class={e.health.status === "healthy" ? "ok" : e.health.status === "unhealthy" ? "err" : "muted"}>{e.health.status}</span>
                  {e.health.latencyMs !== null ? ` ${e.health.latencyMs} ms` : ""}
                  {e.health.lastError ? <div class="muted">{e.health.lastError}</div> : null}
                </td>
                <td>
                  <form method="post" action={`/fleet/${e.id}/check`} class="inline"><Csrf s={s} /><button type="submit" aria-label={`Check ${e.id} now`}>Check</button></form>
                  <form method="post" action={`/fleet/${e.id}/delete`} class="inline"><Csrf s={s} /><button type="submit" class="danger" aria-label={`Remove ${e.id}`}>Remove</button></form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <section>
          <h2>Register an endpoint</h2>
          <form method="post" action="/fleet" class="inline">
            <Csrf s={s} />
            <label for="f-kind">Kind</label>
            <select id="f-kind" name="kind">{KINDS.map((k) => <option value={k}>{k}</option>)}</select>
            <label for="f-api">API URL</label>
            <input id="f-api" name="apiUrl" type="url" required placeholder="https://stripe.clones.internal" />
            <label for="f-admin">Admin URL</label>
            <input id="f-admin" name="adminUrl" type="url" required />
            <label for="f-token">Admin token</label>
            <input id="f-token" name="adminToken" type="password" required autocomplete="off" />
            <label for="f-labels">Labels</label>
            <input id="f-labels" name="labels" placeholder="team=payments,env=staging" />
            <button type="submit">Register</button>
          </form>
        </section>
      </Page>,
    );
  });
  app.post("/fleet", async (c) => {
    const f = await c.req.formData();
    const labels = Object.fromEntries(String(f.get("labels") ?? "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => [p.split("=")[0], p.split("=").slice(1).join("=")]));
    const r = await control(c.env, c.get("session").org).fleetCreate({ kind: f.get("kind"), apiUrl: f.get("apiUrl"), adminUrl: f.get("adminUrl"), adminToken: f.get("adminToken"), labels });
    if ("error" in r) return c.text(`Fleet: ${r.error.message}`, r.error.status as 422);
    return c.redirect("/fleet", 303);
  });
  app.post("/fleet/:id/check", async (c) => {
    await control(c.env, c.get("session").org).fleetCheck(c.req.param("id"));
    return c.redirect("/fleet", 303);
  });
  app.post("/fleet/:id/delete", async (c) => {
    await control(c.env, c.get("session").org).fleetDelete(c.req.param("id"));
    return c.redirect("/fleet", 303);
  });

  // ---- observability: the same figures /metrics exposes
  app.get("/observability", async (c) => {
    const s = c.get("session");
    const o = await orgStats(c.env, s.org);
    const t = o.totals;
    const errRate = t.requests ? ((t.serverErrors / t.requests) * 100).toFixed(2) : "0.00";
    return c.html(
      <Page title="Observability" session={s} nonce={c.get("nonce")}>
        <h1>Observability</h1>
        <div class="cards" role="list">
          <div class="card" role="listitem"><b>{o.active}</b>active sessions</div>
          <div class="card" role="listitem"><b>{t.requests}</b>requests logged</div>
          <div class="card" role="listitem"><b>{errRate}%</b>5xx rate</div>
          <div class="card" role="listitem"><b>{fmt(t.p50Ms)} ms</b>p50 (median session)</div>
          <div class="card" role="listitem"><b>{fmt(t.p99Ms)} ms</b>p99 (worst session)</div>
          <div class="card" role="listitem"><b>{t.errorInjected}</b>chaos-injected failures</div>
        </div>
        <p class="muted">{`From the request logs of the ${Math.min(o.active, SAMPLE)} newest active sessions (each keeps its last 10,000 requests). Prometheus: GET /metrics with the org key.`}</p>
        <section>
          <h2>Per clone</h2>
          <table>
            <thead><tr><th scope="col">Clone</th><th scope="col">Requests</th></tr></thead>
            <tbody>{KINDS.map((k) => <tr><td>{k}</td><td>{t.byKind[k] ?? 0}</td></tr>)}</tbody>
          </table>
        </section>
        <section>
          <h2>Per session</h2>
          <table>
            <thead><tr><th scope="col">Session</th><th scope="col">Requests</th><th scope="col">5xx</th><th scope="col">4xx</th><th scope="col">p50</th><th scope="col">p99</th></tr></thead>
            <tbody>
              {o.sampled.length === 0 ? <tr><td colspan={6} class="muted">No active sessions.</td></tr> : null}
              {o.sampled.map((x) => (
                <tr>
                  <td><a href={`/sessions/${encodeURIComponent(x.runId)}`}>{x.runId}</a></td>
                  <td>{x.stats.requests}</td><td>{x.stats.serverErrors}</td><td>{x.stats.clientErrors}</td><td>{fmt(x.stats.p50Ms)}</td><td>{fmt(x.stats.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </Page>,
    );
  });

  // ---- settings: the org's API keys, its quotas, the audit log
  type Key = { id: string; prefix: string; label: string; scope: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null };
  const settings = async (c: C, made: { key: string; label: string } | null = null, error: string | null = null) => {
    const s = c.get("session");
    const ctl = control(c.env, s.org);
    const [keys, audit, q] = await Promise.all([ctl.keyList() as Promise<Key[]>, ctl.auditTrail(100), quotasOf(c.env, s.org)]);
    return c.html(
      <Page title="Settings" session={s} nonce={c.get("nonce")}>
        <h1>Settings</h1>
        {made ? (
          <div role="status" class="card" data-testid="new-key">
            <p><b>{made.label}</b> was created. Copy it now: it is not shown again.</p>
            <pre tabindex={0}>{made.key}</pre>
          </div>
        ) : null}
        {error ? <p class="err" role="alert">{error}</p> : null}
        <section>
          <h2>API keys</h2>
          <p class="muted">Keys from the environment (MOLAR_CLONES_API_TOKEN, MOLAR_CLONES_ORGS) are not listed and cannot be revoked here. A read key may only GET (dashboards, Prometheus).</p>
          <table>
            <thead><tr><th scope="col">Label</th><th scope="col">Key</th><th scope="col">Scope</th><th scope="col" class="hide-sm">Last used</th><th scope="col">State</th></tr></thead>
            <tbody>
              {keys.length === 0 ? <tr><td colspan={5} class="muted">No keys made here yet.</td></tr> : null}
              {keys.map((k) => (
                <tr>
                  <td>{k.label}</td>
                  <td><code>{k.prefix}</code></td>
                  <td>{k.scope}</td>
                  <td class="hide-sm">{k.lastUsedAt ?? "never"}</td>
                  <td>
                    {k.revokedAt ? `revoked ${k.revokedAt}` : (
                      <form method="post" action={`/settings/keys/${k.id}/revoke`} class="inline"><Csrf s={s} /><button type="submit" class="danger" aria-label={`Revoke ${k.label}`}>Revoke</button></form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form method="post" action="/settings/keys" class="inline">
            <Csrf s={s} />
            <label for="k-label">Label</label>
            <input id="k-label" name="label" required maxlength={80} />
            <label for="k-scope">Scope</label>
            <select id="k-scope" name="scope"><option value="admin">admin</option><option value="read">read</option></select>
            <button type="submit">Create key</button>
          </form>
        </section>
        <section>
          <h2>Quotas</h2>
          <table>
            <tbody>
              <tr><th scope="row">Concurrent sessions</th><td>{q.concurrentRuns}</td></tr>
              <tr><th scope="row">Vendor requests per session per minute</th><td>{q.requestsPerMinute}</td></tr>
              <tr><th scope="row">Stored bytes per session</th><td>{q.storedBytes}</td></tr>
            </tbody>
          </table>
        </section>
        <section>
          <h2>Audit log</h2>
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Session</th><th scope="col">Actor</th><th scope="col" class="hide-sm">Detail</th></tr></thead>
            <tbody>
              {audit.map((a) => <tr><td>{a.at}</td><td>{a.action}</td><td>{a.runId}</td><td>{a.actor}</td><td class="hide-sm">{a.detail ?? ""}</td></tr>)}
            </tbody>
          </table>
        </section>
      </Page>,
    );
  };
  app.get("/settings", (c) => settings(c));
  app.post("/settings/keys", async (c) => {
    const f = await c.req.formData();
    const r = await control(c.env, c.get("session").org).keyCreate({ label: f.get("label"), scope: f.get("scope") }, c.get("session").org);
    if ("error" in r) return settings(c, null, r.error.message);
    return settings(c, { key: r.key, label: r.label });
  });
  app.post("/settings/keys/:id/revoke", async (c) => {
    await control(c.env, c.get("session").org).keyRevoke(c.req.param("id"));
    return c.redirect("/settings", 303);
  });

  // ---- developers: snippets with this instance's real URLs
  app.get("/developers", (c) => {
    const s = c.get("session");
    const u = urlsOf(c.env, c.req.url);
    const sdk = `# .env of a test suite (service mode)\nMOLAR_CLONES_CTRL_URL=${u.control}\nMOLAR_CLONES_API_TOKEN=<an org key from Settings>\n\n// a test\nimport { clones } from "@molar/clones";\nimport Stripe from "stripe";\nconst run = await clones.start({ kinds: ["stripe", "email"] });\nconst stripe = new Stripe(run.stripe.secretKey, run.stripe.config);\nawait run.clock.advance("30d");\nawait run.teardown();`;
    const cli = `export MOLAR_CLONES_CTRL_URL=${u.control}\nexport MOLAR_CLONES_API_TOKEN=<an org key>\nnpx molar-clones runs spawn --run-id demo --kinds stripe,email --seed stripe-checkout\nnpx molar-clones env demo --write .env\nnpx molar-clones clock demo advance 30d\nnpx molar-clones inbox demo --follow`;
    const mcp = JSON.stringify({ mcpServers: { "molar-clones": { type: "http", url: `${u.control}/mcp`, headers: { Authorization: "Bearer <an org key with the admin scope>" } } } }, null, 2);
    const curl = `curl -s -X POST -H "Authorization: Bearer $MOLAR_CLONES_API_TOKEN" ${u.control}/v1/runs -d '{"runId":"ci-42","kinds":["stripe","twilio","email","auth","s3"]}'`;
    const ci = `# GitHub Actions: a run per pull request (examples/ci/pr-preview.yml)\nenv:\n  MOLAR_CLONES_CTRL_URL: ${u.control}\n  MOLAR_CLONES_API_TOKEN: \${{ secrets.MOLAR_CLONES_API_TOKEN }}\n  RUN_ID: pr-\${{ github.event.number }}\nsteps:\n  - run: npx -y -p @molar/clones molar-clones runs spawn --run-id "$RUN_ID" --ttl 30d || npx -y -p @molar/clones molar-clones runs extend "$RUN_ID" --ttl 30d\n  - run: npx -y -p @molar/clones molar-clones env "$RUN_ID" --write .env.preview`;
    const Snip: FC<{ id: string; title: string; text: string }> = ({ id, title, text }) => (
      <section aria-labelledby={id}>
        <h2 id={id}>{title}</h2>
        <pre tabindex={0}>{text}</pre>
      </section>
    );
    return c.html(
      <Page title="Developers" session={s} nonce={c.get("nonce")}>
        <h1>Developers</h1>
        <p class="muted">{`This instance: control ${u.control}; ${KINDS.map((k) => `${k} ${u[k]}`).join(", ")}.`}</p>
        <Snip id="d-sdk" title="SDK (service mode)" text={sdk} />
        <Snip id="d-cli" title="CLI" text={cli} />
        <Snip id="d-http" title="HTTP" text={curl} />
        <Snip id="d-mcp" title="MCP (coding agents)" text={mcp} />
        <Snip id="d-ci" title="CI" text={ci} />
      </Page>,
    );
  });

  // ---- usage: clone-minutes per day and kind
  app.get("/billing", async (c) => {
    const s = c.get("session");
    const ctl = control(c.env, s.org);
    const [days, usage, active] = await Promise.all([ctl.usageDaily(30), ctl.usage(), ctl.list({ status: "active" })]);
    const q = await quotasOf(c.env, s.org);
    return c.html(
      <Page title="Usage" session={s} nonce={c.get("nonce")}>
        <h1>Usage</h1>
        <div class="cards" role="list">
          <div class="card" role="listitem"><b>{usage.cloneMinutes}</b>clone-minutes, all time</div>
          <div class="card" role="listitem"><b>{usage.runs}</b>sessions, all time</div>
          <div class="card" role="listitem"><b>{`${active.length} / ${q.concurrentRuns}`}</b>active now (quota)</div>
        </div>
        <section>
          <h2>Last 30 days (UTC)</h2>
          <table>
            <thead><tr><th scope="col">Day</th>{KINDS.map((k) => <th scope="col">{k}</th>)}<th scope="col">Total</th></tr></thead>
            <tbody>
              {days.slice().reverse().filter((d) => d.total > 0).map((d) => (
                <tr><td>{d.day}</td>{KINDS.map((k) => <td>{d.byKind[k] ?? 0}</td>)}<td>{d.total}</td></tr>
              ))}
            </tbody>
          </table>
          <p class="muted">A session's clone-minutes: its lifetime (spawn to teardown or expiry) times its number of clones.</p>
        </section>
      </Page>,
    );
  });
}

function safeParse(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
