// The admin API of one run (CONTRACT section 4), served inside the run's Durable Object.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, jsonObject } from "../lib/http-error.ts";
import { parseDuration } from "../lib/duration.ts";
import { isKind } from "../kernel/types.ts";
import { BundleError } from "../kernel/snapshots.ts";
import { VENDORS } from "../vendors/index.ts";
import { SNAPSHOT_TABLES, type World } from "../kernel/world.ts";
import { GOLDEN_SEEDS, SeedError, applySeed } from "../control/seeds.ts";

const MAX_BUNDLE_BYTES = 100 * 1024 * 1024;

function num(v: unknown, field: string, min: number, max: number, integer = false): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ApiError(422, "invalid_field", `\`${field}\` must be a${integer ? "n integer" : " number"} between ${min} and ${max}.`);
  }
  return v;
}

function str(v: unknown, field: string, max = 512): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.length === 0 || v.length > max) throw new ApiError(422, "invalid_field", `\`${field}\` must be a non-empty string.`);
  return v;
}

export function adminRouter(w: World): Hono {
  const app = new Hono();
  app.onError((err) => {
    if (err instanceof ApiError) return err.getResponse();
    if (err instanceof BundleError) return new ApiError(422, "invalid_bundle", err.message).getResponse();
    console.error("molar: admin error", err instanceof Error ? err.stack : err);
    return new ApiError(500, "internal", "Internal error.").getResponse();
  });
  const k = () => w.k;

  app.get("/", (c) => {
    const id = w.identity!;
    return c.json({ runId: id.runId, kinds: id.kinds, seed: id.seed, createdAt: new Date(id.createdAt).toISOString(), expiresAt: new Date(id.expiresAt).toISOString() });
  });

  // ---- clock
  const clockJson = () => ({ now: k().clock.iso(), frozen: k().clock.frozen, offsetMs: k().clock.offset });
  app.get("/clock", (c) => c.json(clockJson()));
  app.post("/clock/advance", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    let target: number;
    if (b.by !== undefined) {
      const ms = parseDuration(b.by);
      if (ms === null) throw new ApiError(422, "invalid_duration", "`by` must be a duration such as `30d`, `1d12h`, `90s`.");
      target = k().clock.now() + ms;
    } else if (b.to !== undefined) {
      const t = typeof b.to === "string" ? Date.parse(b.to) : NaN;
      if (Number.isNaN(t)) throw new ApiError(422, "invalid_instant", "`to` must be an ISO 8601 instant.");
      if (t < k().clock.now()) throw new ApiError(422, "clock_backwards", "The clock never goes backwards; restore a snapshot instead.");
      target = t;
    } else {
      throw new ApiError(422, "missing_field", "Give `by` (a duration) or `to` (an ISO instant).");
    }
    const fired = await w.advance(target);
    return c.json({ now: k().clock.iso(), fired });
  });
  app.post("/clock/freeze", (c) => {
    w.tx(() => k().clock.freeze());
    w.rearm(true);
    return c.json(clockJson());
  });
  app.post("/clock/resume", (c) => {
    w.tx(() => k().clock.resume());
    w.rearm(true);
    return c.json(clockJson());
  });
  app.get("/clock/next", (c) =>
    c.json({ data: w.jobsView.pending(Number(c.req.query("limit") ?? 20)).map((j) => ({ at: k().clock.iso(j.due_at), kind: j.kind, type: j.type, ref: j.ref })) }),
  );

  // ---- chaos
  app.get("/chaos/rules", (c) => c.json({ data: w.chaosView.list() }));
  app.post("/chaos/rules", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    if (!isKind(b.kind)) throw new ApiError(422, "invalid_kind", "`kind` must be one of stripe, twilio, email, auth, s3.");
    const preset = str(b.preset, "preset", 64);
    if (preset && !VENDORS[b.kind].presets[preset]) throw new ApiError(422, "unknown_preset", `${b.kind} has no preset ${preset}.`);
    const status = num(b.status, "status", 100, 599, true);
    const latencyMs = num(b.latencyMs, "latencyMs", 0, 60_000, true);
    if (status === null && latencyMs === null && !preset) throw new ApiError(422, "empty_rule", "A rule needs a `status`, a `latencyMs` or a `preset`.");
    const rule = w.tx(() =>
      k().chaos.add({
        kind: b.kind as string,
        method: str(b.method, "method", 16)?.toUpperCase() ?? null,
        path: str(b.path, "path"),
        status,
        latencyMs,
        rate: num(b.rate, "rate", 0, 1) ?? 1,
        times: num(b.times, "times", 1, 1_000_000_000, true),
        preset,
      }),
    );
    return c.json(rule, 201);
  });
  app.delete("/chaos/rules/:id", (c) => {
    if (!w.tx(() => k().chaos.remove(c.req.param("id")))) throw new ApiError(404, "not_found", "No such chaos rule.");
    return c.json({ id: c.req.param("id"), deleted: true });
  });
  app.post("/chaos/presets/:kind/:preset", async (c) => {
    const kind = c.req.param("kind");
    const name = c.req.param("preset");
    if (!isKind(kind)) throw new ApiError(404, "unknown_kind", `No clone kind ${kind}.`);
    const def = VENDORS[kind].presets[name];
    if (!def) throw new ApiError(404, "unknown_preset", `${kind} has no preset ${name}; it has ${Object.keys(VENDORS[kind].presets).join(", ")}.`);
    const b = await jsonObject(c.req.raw);
    const rule = w.tx(() =>
      k().chaos.add({
        kind,
        method: def.method ?? null,
        path: def.path ?? null,
        status: def.status ?? null,
        latencyMs: def.latencyMs ?? null,
        rate: num(b.rate, "rate", 0, 1) ?? 1,
        times: num(b.times, "times", 1, 1_000_000_000, true),
        preset: name,
      }),
    );
    return c.json(rule, 201);
  });

  // ---- snapshots
  app.post("/snapshots/import", async (c) => {
    const len = Number(c.req.header("content-length") ?? 0);
    if (len > MAX_BUNDLE_BYTES) throw new ApiError(413, "too_large", `Bundles are capped at ${MAX_BUNDLE_BYTES} bytes.`);
    const bytes = await c.req.arrayBuffer();
    if (bytes.byteLength > MAX_BUNDLE_BYTES) throw new ApiError(413, "too_large", `Bundles are capped at ${MAX_BUNDLE_BYTES} bytes.`);
    return c.json(await w.snapshots.import(bytes, c.req.query("label") ?? null), 201);
  });
  app.post("/snapshots", async (c) => {
    const b = await jsonObject(c.req.raw);
    return c.json(await w.snapshots.save(str(b.label, "label", 200)), 201);
  });
  app.get("/snapshots", (c) => c.json({ data: w.snapshots.list() }));
  app.get("/snapshots/:a/diff/:b", async (c) => {
    const d = await w.snapshots.diff(c.req.param("a"), c.req.param("b"));
    if (!d) throw new ApiError(404, "not_found", "No such snapshot.");
    return c.json(d);
  });
  app.get("/snapshots/:id", async (c) => {
    const info = w.snapshots.get(c.req.param("id"));
    if (!info) throw new ApiError(404, "not_found", "No such snapshot.");
    if ((c.req.header("accept") ?? "").includes("application/gzip")) {
      const bytes = await w.snapshots.bytes(info.id);
      if (!bytes) throw new ApiError(404, "not_found", "The snapshot's bundle is gone.");
      return new Response(bytes, {
        headers: { "content-type": "application/gzip", "content-disposition": `attachment; filename="${info.id}.json.gz"`, "x-molar-sha256": info.sha256 },
      });
    }
    return c.json(info);
  });
  app.post("/snapshots/:id/restore", async (c) => {
    if (!(await w.snapshots.restore(c.req.param("id")))) throw new ApiError(404, "not_found", "No such snapshot.");
    return c.json({ id: c.req.param("id"), restored: true, clock: clockJson() });
  });
  app.delete("/snapshots/:id", async (c) => {
    if (!(await w.snapshots.remove(c.req.param("id")))) throw new ApiError(404, "not_found", "No such snapshot.");
    return c.json({ id: c.req.param("id"), deleted: true });
  });

  // ---- logs
  const logFilter = (q: Record<string, string>) => {
    const status = q.status === undefined ? null : Number(q.status);
    if (status !== null && !Number.isInteger(status)) throw new ApiError(422, "invalid_filter", "`status` must be an integer.");
    return {
      kind: q.kind ?? null,
      status,
      path: q.path ?? null,
      errorInjected: q.errorInjected === undefined ? null : q.errorInjected === "true",
      limit: q.limit === undefined ? undefined : Math.max(1, Math.min(10_000, Number(q.limit) || 10_000)),
    };
  };
  app.get("/logs", (c) => {
    const lines = w.log.list(logFilter(c.req.query()));
    return new Response(lines.map((l) => JSON.stringify(l)).join("\n") + (lines.length ? "\n" : ""), { headers: { "content-type": "application/x-ndjson" } });
  });
  app.get("/logs/stream", (c) =>
    new Response(w.log.stream(logFilter(c.req.query())), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
    }),
  );

  // ---- what the dashboard's explorers and observability pages read (not in the contract; more may exist)
  app.get("/stats", (c) => {
    w.log.flush();
    const sql = w.ctx.storage.sql;
    const t = sql.exec<{ n: number; e5: number; e4: number; inj: number; first: number | null }>(
      "SELECT count(*) AS n, COALESCE(SUM(status >= 500), 0) AS e5, COALESCE(SUM(status >= 400 AND status < 500), 0) AS e4, COALESCE(SUM(error_injected), 0) AS inj, MIN(at) AS first FROM kernel_request_log",
    ).one();
    const pct = (q: number) =>
      t.n ? sql.exec<{ d: number }>("SELECT duration_ms AS d FROM kernel_request_log ORDER BY duration_ms LIMIT 1 OFFSET ?", Math.min(t.n - 1, Math.floor(t.n * q))).one().d : null;
    const byKind = Object.fromEntries(sql.exec<{ kind: string; n: number }>("SELECT kind, count(*) AS n FROM kernel_request_log GROUP BY kind").toArray().map((r) => [r.kind, r.n]));
    return c.json({ requests: t.n, serverErrors: t.e5, clientErrors: t.e4, errorInjected: t.inj, p50Ms: pct(0.5), p99Ms: pct(0.99), byKind, since: t.first === null ? null : new Date(t.first).toISOString(), window: "the last 10,000 requests" });
  });
  // One small answer per session for the sessions list: its clock offset, requests, snapshots.
  app.get("/summary", (c) => {
    w.log.flush();
    const sql = w.ctx.storage.sql;
    const requests = sql.exec<{ n: number }>("SELECT count(*) AS n FROM kernel_request_log").one().n;
    const snapshots = sql.exec<{ n: number }>("SELECT count(*) AS n FROM kernel_snapshots").one().n;
    return c.json({ offsetMs: k().clock.offset, frozen: k().clock.frozen, requests, snapshots });
  });
  const typed = () => SNAPSHOT_TABLES.filter((t) => t.type && t.idColumn && (t.kind === "kernel" || w.identity!.kinds.includes(t.kind as never)));
  app.get("/resources", (c) => {
    const counts: Record<string, Record<string, number>> = {};
    for (const t of typed()) {
      if (t.kind === "kernel") continue;
      (counts[t.kind] ??= {})[t.type!] = w.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${t.name}"`).one().n;
    }
    const routes = Object.fromEntries(w.identity!.kinds.map((kind) => [kind, w.routeCount(kind)]));
    return c.json({ counts, routes });
  });
  app.get("/resources/:kind/:type", (c) => {
    const t = typed().find((x) => x.kind === c.req.param("kind") && x.type === c.req.param("type"));
    if (!t) throw new ApiError(404, "unknown_type", `No resource type ${c.req.param("kind")}/${c.req.param("type")} in this run.`);
    const limit = num(c.req.query("limit") === undefined ? undefined : Number(c.req.query("limit")), "limit", 1, 100, true) ?? 25;
    const after = c.req.query("after") ?? null;
    const rows = w.ctx.storage.sql
      .exec<Record<string, SqlStorageValue>>(`SELECT * FROM "${t.name}" WHERE (?1 IS NULL OR "${t.idColumn}" > ?1) ORDER BY "${t.idColumn}" LIMIT ?2`, after, limit + 1)
      .toArray();
    // Bytes are shown by size only: an explorer lists resources, it does not ship object bodies.
    const data = rows.slice(0, limit).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof ArrayBuffer ? `<${v.byteLength} bytes>` : v])));
    return c.json({ data, hasMore: rows.length > limit });
  });

  // ---- golden seeds, applied after spawn too
  app.get("/seeds", (c) => c.json({ data: Object.entries(GOLDEN_SEEDS).map(([name, s]) => ({ name, description: s.description, kinds: s.kinds })) }));
  app.post("/seeds/:name", async (c) => {
    const name = c.req.param("name");
    if (!GOLDEN_SEEDS[name]) throw new ApiError(404, "unknown_seed", `No seed ${name}; GET /seeds lists them.`);
    try {
      const calls = await applySeed(name, w.identity!.credentials, (kind, req) => w.vendor(kind, req));
      return c.json({ seed: name, calls });
    } catch (e) {
      if (e instanceof SeedError) throw new ApiError(422, "seed_failed", e.message);
      throw e;
    }
  });

  // ---- inbox
  app.get("/inbox", (c) => {
    const channel = c.req.query("channel") ?? null;
    if (channel !== null && channel !== "email" && channel !== "sms") throw new ApiError(422, "invalid_filter", "`channel` is email or sms.");
    const rows = k().inbox.list({ channel, to: c.req.query("to") ?? null });
    return c.json({
      data: rows.map((r) => ({
        id: r.id, channel: r.channel, kind: r.kind, to: r.to, from: r.from, subject: r.subject ?? undefined, text: r.text ?? undefined,
        html: r.html ?? undefined, code: r.code ?? undefined, ref: r.ref ?? undefined, createdAt: new Date(r.created_at).toISOString(),
      })),
    });
  });

  // ---- webhooks
  app.post("/webhooks/endpoints", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    // s3: the destinations of bucket notifications (the ARNs in `events`, or every one).
    if (b.kind !== "email" && b.kind !== "auth" && b.kind !== "s3") {
      throw new ApiError(422, "invalid_kind", "Endpoints here are for email, auth and s3 (bucket notification destinations); Stripe's are made through its API, Twilio's through its callback parameters.");
    }
    let url: string;
    try {
      url = new URL(String(b.url)).toString();
      if (!/^https?:$/.test(new URL(url).protocol)) throw new Error();
    } catch {
      throw new ApiError(422, "invalid_url", "`url` must be an http(s) URL.");
    }
    if (b.events !== undefined && (!Array.isArray(b.events) || !b.events.every((e) => typeof e === "string"))) {
      throw new ApiError(422, "invalid_events", "`events` must be an array of event type names.");
    }
    const e = w.tx(() => k().endpoints.create(b.kind as string, url, (b.events as string[] | undefined) ?? null));
    return c.json({ id: e.id, kind: e.kind, url: e.url, events: e.events, secret: e.secret }, 201);
  });
  app.get("/webhooks/endpoints", (c) => c.json({ data: k().endpoints.list().map((e) => ({ id: e.id, kind: e.kind, url: e.url, events: e.events, status: e.status })) }));
  app.delete("/webhooks/endpoints/:id", (c) => {
    if (!w.tx(() => k().endpoints.remove(c.req.param("id")))) throw new ApiError(404, "not_found", "No such endpoint.");
    return c.json({ id: c.req.param("id"), deleted: true });
  });
  const deliveryJson = (d: NonNullable<ReturnType<typeof w.outboxView.get>>, withAttempts = false) => ({
    id: d.id,
    kind: d.kind,
    url: d.url,
    event: d.event,
    eventId: d.event_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.next_attempt_at === null ? undefined : k().clock.iso(d.next_attempt_at),
    lastError: d.last_error ?? undefined,
    lastStatus: d.last_status ?? undefined,
    createdAt: k().clock.iso(d.created_at),
    ...(withAttempts ? { body: d.body, history: w.outboxView.attemptsOf(d.id).map((a) => ({ at: k().clock.iso(a.at), status: a.status, error: a.error, durationMs: a.duration_ms })) } : {}),
  });
  app.get("/webhooks/deliveries", (c) => c.json({ data: w.outboxView.list({ kind: c.req.query("kind"), status: c.req.query("status") }).map((d) => deliveryJson(d)) }));
  app.get("/webhooks/deliveries/:id", (c) => {
    const d = w.outboxView.get(c.req.param("id"));
    if (!d) throw new ApiError(404, "not_found", "No such delivery.");
    return c.json(deliveryJson(d, true));
  });
  app.post("/webhooks/deliveries/:id/redeliver", async (c) => {
    const d = w.redeliver(c.req.param("id"));
    if (!d) throw new ApiError(404, "not_found", "No such delivery.");
    // "Send it again now": the attempt runs before we answer.
    await w.advance(k().clock.now());
    return c.json(deliveryJson(w.outboxView.get(d.id)!));
  });

  // Vendor-specific admin calls, each vendor under its own prefix.
  for (const v of Object.values(VENDORS)) {
    if (!v.admin) continue;
    const sub = v.admin(w.k);
    sub.onError((err) => {
      // ApiError is one; a vendor's own error (Clerk, Twilio, ...) renders in its shape too.
      if (err instanceof HTTPException) return err.getResponse();
      console.error(`molar: ${v.kind} admin error`, err instanceof Error ? err.stack : err);
      return new ApiError(500, "internal", "Internal error.").getResponse();
    });
    // Their writes go through k.tx, outside a vendor request: re-arm the alarm after each.
    app.use(`/${v.kind}/*`, async (_c, next) => {
      await next();
      w.rearm(true);
    });
    app.route(`/${v.kind}`, sub);
  }

  app.all("*", (c) => new ApiError(404, "unknown_route", `No admin route ${c.req.method} ${c.req.path}.`).getResponse());
  return app;
}
