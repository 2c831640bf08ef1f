// The control API (CONTRACT section 2) and the admin API's front door. Thin: authenticate, check
// the quota, resolve the run, forward to its object.
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError, jsonObject } from "../lib/http-error.ts";
import { safeEqual } from "../lib/crypto.ts";
import { bearer } from "../vendors/credentials.ts";
import { orgForKey, quotasOf } from "./orgs.ts";
import { looksLikeJwt, mintRunToken, verifyRunToken } from "./tokens.ts";
import { runJson, type RunRecord } from "./run-json.ts";
import { urlsOf } from "./urls.ts";
import type { ControlError } from "../../durable-objects/control.ts";
import { FailureLimiter } from "./limiter.ts";
import type { FleetError } from "./fleet.ts";
import { orgStats, prometheus } from "./metrics.ts";
import { GOLDEN_SEEDS } from "./seeds.ts";
import type { PresetInfo } from "./presets.ts";

let limiter: { limit: number; l: FailureLimiter } | null = null;
function failures(env: AppEnv): FailureLimiter {
  const limit = Math.max(1, Number(env.MOLAR_AUTH_FAILURES_PER_MINUTE ?? 60) || 60);
  if (limiter?.limit !== limit) limiter = { limit, l: new FailureLimiter(limit) };
  return limiter.l;
}
// On Cloudflare the client's address; locally every caller is the same loopback client.
const clientOf = (c: Context) => c.req.header("cf-connecting-ip") ?? "local";

/** A 401 that also counts against the caller's failure budget. */
function refuse(c: Context<Env>, code: string, message: string): never {
  failures(c.env).fail(clientOf(c));
  throw new ApiError(401, code, message);
}

type Env = { Bindings: AppEnv; Variables: { org: string; quotas: import("../kernel/types.ts").Quotas } };

const ACTORS = /^(sdk|cli|mcp|ci|dashboard|api|test|proxy)$/;
const actorOf = (c: Context) => {
  const a = c.req.header("x-molar-actor") ?? "api";
  return ACTORS.test(a) ? a : "api";
};

/** A control object's answer: the record, or its error rendered in the API's shape. */
function unwrap(r: RunRecord | ControlError): RunRecord {
  if ("error" in r) {
    const e = r.error;
    throw new ApiError(e.status, e.code, e.message, e.retryAfter ? { "retry-after": String(e.retryAfter) } : {});
  }
  return r;
}

/** A read-scoped key may look, never change: anything but GET/HEAD is refused. */
function readOnly(c: Context, scope: "admin" | "read"): void {
  if (scope === "read" && c.req.method !== "GET" && c.req.method !== "HEAD") {
    throw new ApiError(403, "insufficient_scope", "This key has the read scope: it may only GET. Use a key with the admin scope.");
  }
}

const control = (env: AppEnv, org: string) => env.CONTROL.get(env.CONTROL.idFromName(org));

export function controlRouter(): Hono<Env> {
  const app = new Hono<Env>();
  app.onError((err) => {
    if (err instanceof ApiError) return err.getResponse();
    console.error("molar: control error", err instanceof Error ? err.stack : err);
    return new ApiError(500, "internal", "Internal error.").getResponse();
  });

  app.notFound((c) => new ApiError(404, "unknown_route", `No route ${c.req.method} ${c.req.path}.`).getResponse());

  app.get("/healthz", (c) => c.json({ ok: true, service: "molar-clones", kinds: ["stripe", "twilio", "email", "auth", "s3"] }));

  // Callers that failed to authenticate too often are refused before any key is looked at.
  app.use("*", async (c, next) => {
    const wait = failures(c.env).blocked(clientOf(c));
    if (wait !== null && (c.req.path.startsWith("/v1/") || c.req.path.startsWith("/admin/") || c.req.path === "/mcp")) {
      throw new ApiError(429, "too_many_failed_attempts", "Too many failed authentications from this address; wait and check the key.", { "retry-after": String(wait) });
    }
    await next();
  });

  // ---- admin API: the run token, or the org key
  app.all("/admin/v1/runs/:runId/*", async (c) => {
    const runId = c.req.param("runId");
    const presented = bearer(c.req.raw);
    if (!presented) refuse(c, "missing_token", "Send `Authorization: Bearer <run token or org API key>`.");
    let worldId: string | null = null;
    if (looksLikeJwt(presented)) {
      const claims = await verifyRunToken(c.env, presented);
      if (!claims || claims.runId !== runId) refuse(c, "invalid_token", "The token is invalid, expired, or for another run.");
      worldId = claims.worldId;
    } else {
      const org = await orgForKey(c.env, presented);
      if (!org) refuse(c, "invalid_api_key", "Invalid API key.");
      readOnly(c, org.scope);
      worldId = await control(c.env, org.org).resolve(runId);
      if (!worldId) throw new ApiError(404, "run_not_found", `No active run ${runId}.`);
    }
    const prefix = `/admin/v1/runs/${encodeURIComponent(runId)}`;
    const path = new URL(c.req.url).pathname;
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : path.replace(/^\/admin\/v1\/runs\/[^/]+/, "");
    return c.env.RUN.get(c.env.RUN.idFromName(worldId)).admin(c.req.raw, rest);
  });

  // ---- MCP for coding agents: the org key
  // ---- MCP for coding agents: the org key, a run token (that run only), or MOLAR_STATIC_TOKEN (a local agent's fixed token)
  app.all("/mcp", async (c) => {
    const presented = bearer(c.req.raw);
    const { handleMcp } = await import("./mcp.ts");
    if (presented && looksLikeJwt(presented)) {
      const claims = await verifyRunToken(c.env, presented);
      if (!claims) refuse(c, "invalid_token", "The token is invalid or expired.");
      return handleMcp(c.req.raw, c.env, { org: claims.org, quotas: await quotasOf(c.env, claims.org) }, claims.runId);
    }
    if (presented && c.env.MOLAR_STATIC_TOKEN && c.env.MOLAR_STATIC_TOKEN.length >= 16 && safeEqual(presented, c.env.MOLAR_STATIC_TOKEN)) {
      return handleMcp(c.req.raw, c.env, { org: "default", quotas: await quotasOf(c.env, "default") });
    }
    const org = await orgForKey(c.env, presented);
    if (!org) refuse(c, "invalid_api_key", "Send `Authorization: Bearer <org API key, run token or MOLAR_STATIC_TOKEN>`.");
    if (org.scope !== "admin") throw new ApiError(403, "insufficient_scope", "MCP tools change runs: use a key with the admin scope.");
    return handleMcp(c.req.raw, c.env, org);
  });

  app.get("/metrics", async (c) => {
    // Prometheus scrapes with a bearer token: the org key, as everywhere in the control API.
    const found = await orgForKey(c.env, bearer(c.req.raw));
    if (!found) refuse(c, "invalid_api_key", "Send `Authorization: Bearer <org API key>`.");
    const org = found.org;
    const ctl = control(c.env, org);
    const [stats, usage, refusals] = await Promise.all([orgStats(c.env, org), ctl.usage(), ctl.refusals()]);
    return c.body(prometheus(org, stats, { cloneMinutes: usage.cloneMinutes, refusals, runsTotal: usage.runs }), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  // ---- control API: the org key
  app.use("/v1/*", async (c, next) => {
    const org = await orgForKey(c.env, bearer(c.req.raw));
    if (!org) refuse(c, "invalid_api_key", bearer(c.req.raw) ? "Invalid API key." : "Send `Authorization: Bearer <org API key>`.");
    readOnly(c, org.scope);
    c.set("org", org.org);
    c.set("quotas", org.quotas);
    await next();
  });

  /** A fleet answer, or its error in the API's shape. */
  const answer = <T extends object>(c: Context, r: T | FleetError, ok: 200 | 201 = 200) => {
    if ("error" in r && (r as FleetError).error.status) throw new ApiError(r.error.status, r.error.code, r.error.message);
    return c.json(r, ok);
  };
  // ---- the org's own API keys (admin scope; the new key is shown once)
  app.get("/v1/keys", async (c) => c.json({ data: await control(c.env, c.get("org")).keyList() }));
  app.post("/v1/keys", async (c) => answer(c, await control(c.env, c.get("org")).keyCreate(await jsonObject(c.req.raw), c.get("org")), 201));
  app.delete("/v1/keys/:id", async (c) => answer(c, await control(c.env, c.get("org")).keyRevoke(c.req.param("id"))));

  const withToken = async (c: Context<Env>, r: RunRecord) =>
    runJson(r, urlsOf(c.env, c.req.url), await mintRunToken(c.env, { org: c.get("org"), runId: r.runId, worldId: r.worldId }));

  app.post("/v1/runs", async (c) => {
    const body = await jsonObject(c.req.raw);
    const urls = urlsOf(c.env, c.req.url);
    const rec = unwrap(await control(c.env, c.get("org")).spawn(body, { org: c.get("org"), actor: actorOf(c), quotas: c.get("quotas"), urls }));
    return c.json(await withToken(c, rec), 201);
  });

  app.get("/v1/runs", async (c) => {
    const status = c.req.query("status");
    const kind = c.req.query("kind");
    const rows = await control(c.env, c.get("org")).list({ status, kind });
    const urls = urlsOf(c.env, c.req.url);
    return c.json({ data: rows.map((r) => runJson(r, urls)) });
  });

  app.get("/v1/runs/:runId", async (c) => {
    const r = await control(c.env, c.get("org")).get(c.req.param("runId"));
    if (!r) throw new ApiError(404, "run_not_found", `No run ${c.req.param("runId")}.`);
    return c.json(runJson(r, urlsOf(c.env, c.req.url)));
  });

  app.post("/v1/runs/:runId/token", async (c) => {
    const r = await control(c.env, c.get("org")).get(c.req.param("runId"));
    if (!r || r.status !== "active") throw new ApiError(404, "run_not_found", `No active run ${c.req.param("runId")}.`);
    const token = await mintRunToken(c.env, { org: c.get("org"), runId: r.runId, worldId: r.worldId });
    return c.json({ runId: r.runId, token, expiresAt: new Date(Date.now() + 3600_000).toISOString() }, 201);
  });

  app.post("/v1/runs/:runId/extend", async (c) => {
    const body = await jsonObject(c.req.raw, false);
    const r = unwrap(await control(c.env, c.get("org")).extend(c.req.param("runId"), body.ttlSeconds, actorOf(c)));
    return c.json(runJson(r, urlsOf(c.env, c.req.url)));
  });

  app.delete("/v1/runs/:runId", async (c) => {
    const r = unwrap(await control(c.env, c.get("org")).teardown(c.req.param("runId"), actorOf(c)));
    return c.json(runJson(r, urlsOf(c.env, c.req.url)));
  });

  app.get("/v1/audit", async (c) => c.json({ data: await control(c.env, c.get("org")).auditTrail(Number(c.req.query("limit") ?? 100)) }));
  app.get("/v1/usage", async (c) => c.json(await control(c.env, c.get("org")).usage()));
  // The route proxy reports what it refused, so the dashboard's counter covers calls that never reached a world.
  app.post("/v1/refusals", async (c) => {
    const body = await c.req.json().catch(() => null);
    if (!body || typeof body.host !== "string" || body.host.length > 253) return c.json({ error: { type: "invalid_request", code: "invalid_body", message: "body must be {\"host\": string, \"why\"?: string}" } }, 422);
    const count = await control(c.env, c.get("org")).recordRefusal(actorOf(c), body.host, typeof body.why === "string" ? body.why : "");
    return c.json({ count }, 201);
  });
  app.post("/v1/fleet", async (c) => answer(c, await control(c.env, c.get("org")).fleetCreate(await jsonObject(c.req.raw, false)), 201));
  app.get("/v1/fleet", async (c) => c.json({ data: await control(c.env, c.get("org")).fleetList({ kind: c.req.query("kind"), label: c.req.query("label") }) }));
  app.get("/v1/fleet/worlds", async (c) => c.json({ data: await control(c.env, c.get("org")).worldList() }));
  app.post("/v1/fleet/worlds", async (c) => answer(c, await control(c.env, c.get("org")).worldSnapshot(await jsonObject(c.req.raw)), 201));
  app.post("/v1/fleet/worlds/:id/restore", async (c) => answer(c, await control(c.env, c.get("org")).worldRestore(c.req.param("id"))));
  app.get("/v1/fleet/:id", async (c) => answer(c, await control(c.env, c.get("org")).fleetGet(c.req.param("id"))));
  app.patch("/v1/fleet/:id", async (c) => answer(c, await control(c.env, c.get("org")).fleetUpdate(c.req.param("id"), await jsonObject(c.req.raw, false))));
  app.delete("/v1/fleet/:id", async (c) => answer(c, await control(c.env, c.get("org")).fleetDelete(c.req.param("id"))));
  app.post("/v1/fleet/:id/check", async (c) => answer(c, await control(c.env, c.get("org")).fleetCheck(c.req.param("id"))));
  app.get("/v1/seeds", async (c) => {
    // RPC's type mapping loses the rule records' shape; the objects are PresetInfo.
    const org = ((await control(c.env, c.get("org")).presetList()) as unknown as PresetInfo[]).map((p) => ({ name: p.seed, description: p.description || `Saved from ${p.source ?? "a run"}`, kinds: p.kinds }));
    return c.json({ data: [{ name: "empty", description: "Nothing: every clone starts blank.", kinds: [] }, ...Object.entries(GOLDEN_SEEDS).map(([name, s]) => ({ name, description: s.description, kinds: s.kinds })), ...org] });
  });
  // ---- org presets: a run's world and chaos rules, kept as a seed (`org:<name>`)
  app.get("/v1/presets", async (c) => c.json({ data: await control(c.env, c.get("org")).presetList() }));
  app.post("/v1/presets", async (c) => answer(c, await control(c.env, c.get("org")).presetSave(await jsonObject(c.req.raw, false), actorOf(c)), 201));
  app.post("/v1/presets/import", async (c) => {
    if (Number(c.req.header("content-length") ?? 0) > 140 * 1024 * 1024) throw new ApiError(413, "too_large", "Preset documents are capped at 140 MB.");
    const doc = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new ApiError(422, "invalid_body", "The body must be a preset document (GET /v1/presets/{name}/export).");
    return answer(c, await control(c.env, c.get("org")).presetImport(doc), 201);
  });
  app.get("/v1/presets/:name", async (c) => answer(c, await control(c.env, c.get("org")).presetGet(c.req.param("name"))));
  app.get("/v1/presets/:name/export", async (c) => answer(c, await control(c.env, c.get("org")).presetExport(c.req.param("name"))));
  app.delete("/v1/presets/:name", async (c) => answer(c, await control(c.env, c.get("org")).presetDelete(c.req.param("name"))));
  app.get("/v1/refusals", async (c) => c.json({ count: await control(c.env, c.get("org")).refusals() }));

  app.all("/v1/*", (c) => new ApiError(404, "unknown_route", `No control route ${c.req.method} ${c.req.path}.`).getResponse());
  return app;
}
