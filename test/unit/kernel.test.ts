// Kernel internals inside workerd: pure helpers, rollback, the alarm, TTL expiry, re-arming.
import { describe, expect, it } from "vitest";
import { env, exports as workerExports } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { parseDuration } from "../../src/lib/duration.ts";
import { globMatch } from "../../src/lib/glob.ts";
import type { World } from "../../src/kernel/world.ts";
import type { AppEnv } from "../../src/env.ts";

const ORG = "unit-test-org-key-0123456789";
const E = env as unknown as AppEnv;
// The Worker's own entrypoints, as the plugin exposes them (their types are not generated).
const exports = workerExports as unknown as { default: Fetcher; EmailApi: Fetcher };

async function spawn(body: Record<string, unknown> = {}) {
  const r = await exports.default.fetch("http://control.test/v1/runs", {
    method: "POST",
    headers: { authorization: `Bearer ${ORG}`, "content-type": "application/json" },
    body: JSON.stringify({ kinds: ["email"], ...body }),
  });
  expect(r.status).toBe(201);
  const run = (await r.json()) as { runId: string; token: string; clones: { email: { apiKey: string } } };
  const wid = JSON.parse(atob(run.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).wid as string;
  return { ...run, stub: E.RUN.get(E.RUN.idFromName(wid)) };
}

const sendEmail = (key: string, body: Record<string, unknown> = {}) =>
  exports.EmailApi.fetch("http://email.test/emails", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x", ...body }),
  });

const worldOf = (instance: unknown) => (instance as { w: World }).w;

describe("helpers", () => {
  it("parses durations the admin API accepts", () => {
    expect(parseDuration("30d")).toBe(2_592_000_000);
    expect(parseDuration("1d12h")).toBe(129_600_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
    for (const bad of ["", "d", "10", "1x", "1d 2h", "-1d", 5]) expect(parseDuration(bad)).toBeNull();
  });

  it("matches chaos path globs", () => {
    expect(globMatch("/v1/charges/*", "/v1/charges/ch_1")).toBe(true);
    expect(globMatch("/v1/charges/*", "/v1/charges/ch_1/refund")).toBe(false);
    expect(globMatch("/v1/**", "/v1/charges/ch_1/refund")).toBe(true);
    expect(globMatch("/emails", "/emails/batch")).toBe(false);
    expect(globMatch("/a.b", "/axb")).toBe(false);
  });
});

describe("the run world", () => {
  it("rolls a failed request back: nothing half-written", async () => {
    const run = await spawn();
    await runInDurableObject(run.stub, async (instance, state) => {
      const w = worldOf(instance);
      await w.ensureSchema();
      const before = state.storage.sql.exec("SELECT count(*) AS n FROM email_domains").one().n;
      const res = w.inTransaction("email", () => {
        state.storage.sql.exec("INSERT INTO email_domains (id, seq, name, status, region, created_at) VALUES ('d1', 1, 'x.test', 'not_started', 'us-east-1', 0)");
        w.k.jobs.schedule("email", "email.domain_verify", 0, {}, "d1");
        throw new Error("boom after writing");
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ statusCode: 500, name: "application_error" });
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM email_domains").one().n).toBe(before);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM kernel_jobs WHERE ref = 'd1'").one().n).toBe(0);
    });
  });


  it("draws the ids of a rolled-back request again, and never one twice across nested rollbacks", async () => {
    const run = await spawn();
    await runInDurableObject(run.stub, async (instance, state) => {
      const w = worldOf(instance);
      await w.ensureSchema();
      const row = () => Number(state.storage.sql.exec("SELECT value FROM kernel_meta WHERE key = 'rng.id.t_'").toArray()[0]?.value ?? 0);
      const first = w.tx(() => w.k.ids.make("t_"));
      expect(row()).toBe(1);
      // A failed request: its draw is undone, so the next request gets the same id (replays stay deterministic).
      const failed = w.inTransaction("email", () => {
        w.k.ids.make("t_");
        throw new Error("boom after drawing");
      });
      expect(failed.status).toBe(500);
      expect(row()).toBe(1);
      const drawn = [first];
      w.tx(() => {
        drawn.push(w.k.ids.make("t_"));
        // A nested transaction that rolls back while the enclosing one goes on.
        expect(() => w.tx(() => {
          drawn.push(w.k.ids.make("t_"));
          throw new Error("nested boom");
        })).toThrow("nested boom");
        drawn.push(w.k.ids.make("t_"), w.k.ids.make("t_"));
      });
      // The nested draw was undone and drawn again: four ids handed out, one of them twice, and
      // the counter row names the last.
      expect(new Set(drawn).size).toBe(4);
      expect(drawn[3]).toBe(drawn[2]);
      expect(row()).toBe(4);
      expect(w.tx(() => w.k.ids.make("t_"))).not.toBe(drawn[4]);
      expect(row()).toBe(5);
    });
  });
  it("fires due jobs from the alarm, which always follows the earliest job", async () => {
    const run = await spawn();
    const sent = (await (await sendEmail(run.clones.email.apiKey)).json()) as { id: string };
    await runInDurableObject(run.stub, async (_i, state) => {
      const due = state.storage.sql.exec<{ due_at: number }>("SELECT due_at FROM kernel_jobs WHERE type = 'email.settle'").one().due_at;
      // The clock runs at wall speed here, so the alarm sits on the job's wall time.
      expect(Math.abs((await state.storage.getAlarm())! - due)).toBeLessThan(50);
      state.storage.sql.exec("UPDATE kernel_jobs SET due_at = 0");
    });
    expect(await runDurableObjectAlarm(run.stub)).toBe(true);
    const got = await exports.EmailApi.fetch(`http://email.test/emails/${sent.id}`, { headers: { authorization: `Bearer ${run.clones.email.apiKey}` } });
    expect(((await got.json()) as { last_event: string }).last_event).toBe("delivered");
    await runInDurableObject(run.stub, async (_i, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM kernel_jobs").one().n).toBe(0);
      // With no job left, the alarm waits for the run's expiry.
      expect((await state.storage.getAlarm())!).toBeGreaterThan(Date.now() + 3_000_000);
    });
  });

  it("re-arms its alarm when it opens again (past-due alarms are not replayed after a restart)", async () => {
    const run = await spawn();
    await sendEmail(run.clones.email.apiKey);
    await runInDurableObject(run.stub, async (instance, state) => {
      await state.storage.deleteAlarm();
      expect(await state.storage.getAlarm()).toBeNull();
      await worldOf(instance).open();
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
  });

  it("creates no storage for a world that does not exist", async () => {
    const stub = E.RUN.get(E.RUN.idFromName("0".repeat(32)));
    const res = await stub.vendor("email", new Request("http://email.test/emails", { headers: { authorization: `Bearer re_${"0".repeat(32)}_x` } }));
    expect(res.status).toBe(401);
    await runInDurableObject(stub, async (_i, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'email_%'").one().n).toBe(0);
    });
  });
});

describe("snapshots", () => {
  it("restore writes only the difference, keeps blobs byte-exact and handles duplicate rows", async () => {
    const run = await spawn();
    await runInDurableObject(run.stub, async (instance, state) => {
      const w = worldOf(instance);
      await w.ensureSchema();
      const sql = state.storage.sql;
      const bytes = new Uint8Array([0, 1, 2, 255, 10, 13, 34, 92]);
      const sha = state.storage.transactionSync(() => w.k.blobs.put(bytes));
      state.storage.transactionSync(() => {
        // Two identical attempt rows: a multiset, not a set.
        for (let i = 0; i < 2; i++) sql.exec("INSERT INTO kernel_delivery_attempts (delivery_id, at, status, error, duration_ms) VALUES ('d', 1, 500, 'x', 1.5)");
        sql.exec("INSERT INTO kernel_meta (key, value) VALUES ('probe', 'before')");
      });
      const snap = await w.snapshots.save("unit");
      const rowidOf = () => sql.exec<{ r: number }>("SELECT rowid AS r FROM kernel_blobs WHERE sha256 = ?", sha).one().r;
      const blobRowid = rowidOf();
      state.storage.transactionSync(() => {
        sql.exec("DELETE FROM kernel_delivery_attempts WHERE rowid = (SELECT MIN(rowid) FROM kernel_delivery_attempts)");
        sql.exec("UPDATE kernel_meta SET value = 'after' WHERE key = 'probe'");
        w.k.blobs.put(new Uint8Array([9, 9, 9]));
      });
      expect(await w.snapshots.restore(snap.id)).toBe(true);
      expect(sql.exec("SELECT count(*) AS n FROM kernel_delivery_attempts").one().n).toBe(2);
      expect(sql.exec("SELECT value FROM kernel_meta WHERE key = 'probe'").one().value).toBe("before");
      expect(sql.exec("SELECT count(*) AS n FROM kernel_blobs").one().n).toBe(1);
      expect([...w.k.blobs.get(sha)!]).toEqual([...bytes]);
      // The unchanged blob row was left where it was, not deleted and written again.
      expect(rowidOf()).toBe(blobRowid);
    });
  });

  it("saves and restores a world that dumps to more than workerd's 128 MiB Blob limit", async () => {
    const run = await spawn();
    await runInDurableObject(run.stub, async (instance, state) => {
      const w = worldOf(instance);
      await w.ensureSchema();
      const sql = state.storage.sql;
      // 150 attempt rows of 1 MiB each: a world of 150 MiB, compressible like real JSON.
      state.storage.transactionSync(() => {
        for (let i = 0; i < 150; i++) sql.exec("INSERT INTO kernel_delivery_attempts (delivery_id, at, status, error, duration_ms) VALUES (?, 1, 500, ?, 1.5)", `big${i}`, `${i}:`.padEnd(1 << 20, "x"));
      });
      const snap = await w.snapshots.save("big");
      state.storage.transactionSync(() => sql.exec("DELETE FROM kernel_delivery_attempts WHERE delivery_id IN ('big0', 'big149')"));
      expect(await w.snapshots.restore(snap.id)).toBe(true);
      expect(sql.exec("SELECT count(*) AS n, sum(length(error)) AS bytes FROM kernel_delivery_attempts WHERE delivery_id LIKE 'big%'").one()).toEqual({ n: 150, bytes: 150 * (1 << 20) });
      expect(sql.exec("SELECT substr(error, 1, 4) AS head FROM kernel_delivery_attempts WHERE delivery_id = 'big149'").one().head).toBe("149:");
    });
  });
});

describe("TTL expiry", () => {
  it("tears the world down from the control object's alarm; its credentials then answer 401", async () => {
    const run = await spawn({ ttlSeconds: 600 });
    expect((await sendEmail(run.clones.email.apiKey)).status).toBe(200);
    const control = E.CONTROL.get(E.CONTROL.idFromName("default"));
    await runInDurableObject(control, async (_i, state) => {
      state.storage.sql.exec("UPDATE ctl_runs SET expires_at = ? WHERE run_id = ?", Date.now() - 1, run.runId);
    });
    expect(await runDurableObjectAlarm(control)).toBe(true);
    const got = await exports.default.fetch(`http://control.test/v1/runs/${run.runId}`, { headers: { authorization: `Bearer ${ORG}` } });
    expect(((await got.json()) as { status: string }).status).toBe("expired");
    expect((await sendEmail(run.clones.email.apiKey)).status).toBe(401);
    await runInDurableObject(run.stub, async (_i, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'email_%'").one().n).toBe(0);
    });
    const audit = await exports.default.fetch("http://control.test/v1/audit", { headers: { authorization: `Bearer ${ORG}` } });
    expect(((await audit.json()) as { data: { action: string; runId: string; actor: string }[] }).data).toContainEqual(expect.objectContaining({ action: "expire", runId: run.runId, actor: "ttl" }));
  });
});

describe("guessing keys", () => {
  it("refuses an address after too many failed authentications, with Retry-After", async () => {
    const attempt = (key: string, ip: string) =>
      exports.default.fetch("http://control.test/v1/runs", { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": ip } });
    for (let i = 0; i < 5; i++) expect((await attempt(`guess-${i}-0123456789`, "203.0.113.9")).status).toBe(401);
    const blocked = await attempt(ORG, "203.0.113.9");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe("too_many_failed_attempts");
    // Another address is unaffected.
    expect((await attempt(ORG, "198.51.100.7")).status).toBe(200);
  });
});
