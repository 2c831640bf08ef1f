// The control API, the admin API and the kernel, end to end (CONTRACT sections 1, 2, 4, 5).
import { describe, expect, it, inject } from "vitest";
import { gunzipSync, gzipSync } from "node:zlib";
import { createHash, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Resend } from "resend";
import { CreateBucketCommand, GetBucketReplicationCommand, S3Client } from "@aws-sdk/client-s3";
import { admin, advance, api, spawn, uniqueId, urls, type Run } from "./helpers.ts";

const resendOf = (run: Run) => new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
const send = (run: Run, to = "b@acme.test", subject = "s") => resendOf(run).emails.send({ from: "a@acme.test", to, subject, text: "x" });

describe("control API", () => {
  it("is healthy", async () => {
    const r = await fetch(`${urls().control}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true });
  });

  it("spawns a run with the contract's shape, env block and working credentials", async () => {
    const runId = uniqueId("ci-job");
    const r = await api("POST", "/v1/runs", inject("orgKey"), { runId, metadata: { branch: "main" } }, { "x-molar-actor": "ci" });
    expect(r.status).toBe(201);
    const run = r.json as Run;
    expect(run).toMatchObject({ runId, status: "active", seed: "empty", adminUrl: `${urls().control}/admin/v1/runs/${runId}` });
    expect(Date.parse(run.expiresAt) - Date.parse(run.createdAt)).toBe(3600_000);
    expect(run.token.split(".")).toHaveLength(3);
    expect(run.clones.stripe).toMatchObject({ url: urls().stripe, secretKey: expect.stringMatching(/^sk_test_/), publishableKey: expect.stringMatching(/^pk_test_/) });
    expect(run.clones.twilio).toMatchObject({ url: urls().twilio, accountSid: expect.stringMatching(/^AC[0-9a-f]{32}$/), authToken: expect.any(String) });
    expect(run.clones.email).toMatchObject({ url: urls().email, apiKey: expect.stringMatching(/^re_/) });
    expect(run.clones.auth).toMatchObject({ url: urls().auth, secretKey: expect.stringMatching(/^sk_test_/), publishableKey: expect.stringMatching(/^pk_test_/) });
    // The run's own RSA-2048 key, e=65537, in the PEM shape Clerk's verifyToken({ jwtKey }) accepts.
    const jwk = createPublicKey(run.clones.auth.jwtKey).export({ format: "jwk" });
    expect(run.clones.auth.jwtKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(jwk).toMatchObject({ kty: "RSA", e: "AQAB" });
    expect(Buffer.from(jwk.n as string, "base64url").length).toBe(256);
    expect(JSON.stringify(run)).not.toContain("privateJwk");
    expect(run.clones.s3).toMatchObject({ url: urls().s3, region: "us-east-1", accessKeyId: expect.any(String), secretAccessKey: expect.any(String) });
    for (const K of ["STRIPE", "TWILIO", "EMAIL", "AUTH", "S3"]) {
      expect(run.env[`MOLAR_CLONE_${K}_URL`]).toMatch(/^http:/);
      expect(run.env[`MOLAR_CLONE_${K}_ADMIN_URL`]).toBe(run.adminUrl);
      expect(run.env[`MOLAR_CLONE_${K}_ADMIN_TOKEN`]).toBe(run.token);
    }
    expect(run.env).toMatchObject({
      STRIPE_SECRET_KEY: run.clones.stripe.secretKey, STRIPE_PUBLISHABLE_KEY: run.clones.stripe.publishableKey,
      TWILIO_ACCOUNT_SID: run.clones.twilio.accountSid, TWILIO_AUTH_TOKEN: run.clones.twilio.authToken,
      RESEND_API_KEY: run.clones.email.apiKey, RESEND_BASE_URL: urls().email,
      CLERK_SECRET_KEY: run.clones.auth.secretKey, CLERK_PUBLISHABLE_KEY: run.clones.auth.publishableKey, CLERK_API_URL: urls().auth,
      AWS_ACCESS_KEY_ID: run.clones.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: run.clones.s3.secretAccessKey, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_S3: urls().s3,
    });

    const got = await api("GET", `/v1/runs/${runId}`, inject("orgKey"));
    expect(got.status).toBe(200);
    expect(got.json.token).toBeUndefined();
    expect(got.json.metadata).toEqual({ branch: "main" });
    const list = await api("GET", "/v1/runs?status=active&kind=email", inject("orgKey"));
    expect(list.json.data.map((x: Run) => x.runId)).toContain(runId);
    expect((await api("GET", "/v1/runs?kind=stripe", inject("orgKey"))).json.data.length).toBeGreaterThan(0);
    const audit = (await api("GET", "/v1/audit", inject("orgKey"))).json.data;
    expect(audit).toContainEqual(expect.objectContaining({ action: "spawn", runId, actor: "ci" }));
  });

  it("lists newest first and filters by kind", async () => {
    const a = await spawn({ kinds: ["email"] });
    const b = await spawn({ kinds: ["stripe"] });
    const all = (await api("GET", "/v1/runs", inject("orgKey"))).json.data.map((x: Run) => x.runId);
    expect(all.indexOf(b.runId)).toBeLessThan(all.indexOf(a.runId));
    const stripeOnly = (await api("GET", "/v1/runs?kind=stripe", inject("orgKey"))).json.data.map((x: Run) => x.runId);
    expect(stripeOnly).toContain(b.runId);
    expect(stripeOnly).not.toContain(a.runId);
    expect(b.clones.email).toBeUndefined();
    expect(b.env.RESEND_API_KEY).toBeUndefined();
  });

  it("answers 401, 404, 409 and 422 in the contract's error shape", async () => {
    const noKey = await api("POST", "/v1/runs", null, {});
    expect(noKey.status).toBe(401);
    expect(noKey.json.error).toMatchObject({ type: expect.any(String), code: expect.any(String), message: expect.any(String) });
    expect((await api("GET", "/v1/runs", "wrong-key-wrong-key")).status).toBe(401);
    expect((await api("GET", "/v1/runs/nope-nope", inject("orgKey"))).status).toBe(404);
    const run = await spawn();
    const dup = await api("POST", "/v1/runs", inject("orgKey"), { runId: run.runId });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("run_exists");
    for (const body of [{ runId: "bad id!" }, { kinds: ["paypal"] }, { kinds: [] }, { ttlSeconds: -5 }, { seed: "nope" }, { metadata: { a: 1 } }, "[1,2]", "{not json"]) {
      const r = await api("POST", "/v1/runs", inject("orgKey"), body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.json.error.type).toBe("invalid_request_error");
    }
  });

  it("mints fresh tokens, extends TTLs and tears down: then every credential gets its vendor's 401", async () => {
    const run = await spawn();
    const fresh = await api("POST", `/v1/runs/${run.runId}/token`, inject("orgKey"));
    expect(fresh.status).toBe(201);
    expect((await admin(run, "GET", "/clock", undefined, fresh.json.token)).status).toBe(200);

    const ext = await api("POST", `/v1/runs/${run.runId}/extend`, inject("orgKey"), { ttlSeconds: 1800 });
    expect(ext.status).toBe(200);
    expect(Date.parse(ext.json.expiresAt) - Date.parse(run.expiresAt)).toBe(1_800_000);
    expect((await api("POST", `/v1/runs/${run.runId}/extend`, inject("orgKey"), { ttlSeconds: "soon" })).status).toBe(422);

    expect((await send(run)).error).toBeNull();
    const down = await api("DELETE", `/v1/runs/${run.runId}`, inject("orgKey"));
    expect(down.status).toBe(200);
    expect(down.json.status).toBe("torn_down");
    expect((await api("GET", `/v1/runs/${run.runId}`, inject("orgKey"))).json.status).toBe("torn_down");
    expect((await api("DELETE", `/v1/runs/${run.runId}`, inject("orgKey"))).status).toBe(404);

    expect((await send(run)).error).toMatchObject({ statusCode: 401 });
    const stripe = await fetch(`${run.clones.stripe.url}/v1/customers`, { headers: { authorization: `Bearer ${run.clones.stripe.secretKey}` } });
    expect(stripe.status).toBe(401);
    expect(((await stripe.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    const twilio = await fetch(`${run.clones.twilio.url}/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${run.clones.twilio.accountSid}:${run.clones.twilio.authToken}`).toString("base64")}` },
    });
    expect(twilio.status).toBe(401);
    expect(await twilio.json()).toMatchObject({ code: 20003, status: 401 });
    const clerk = await fetch(`${run.clones.auth.url}/v1/users`, { headers: { authorization: `Bearer ${run.clones.auth.secretKey}` } });
    expect(clerk.status).toBe(401);
    expect(((await clerk.json()) as { errors: { code: string }[] }).errors[0].code).toBe("authentication_invalid");
    expect((await admin(run, "GET", "/clock")).status).toBe(401);
    expect((await api("GET", `/admin/v1/runs/${run.runId}/clock`, inject("orgKey"))).status).toBe(404);

    // The run id is free again, for a new world that knows nothing of the old one.
    const again = await spawn({ runId: run.runId });
    expect(again.clones.email.apiKey).not.toBe(run.clones.email.apiKey);
    expect((await resendOf(again).emails.list()).data?.data).toEqual([]);
  });

  it("meters usage in clone-minutes", async () => {
    await spawn({ kinds: ["email", "stripe"] });
    const u = (await api("GET", "/v1/usage", inject("orgKey"))).json;
    expect(u).toMatchObject({ org: "default", runs: expect.any(Number), active: expect.any(Number) });
    expect(u.cloneMinutes).toBeGreaterThan(0);
  });
});

describe("vendors not built yet", () => {
  it("authenticate their credentials and answer their own 501 shape, logged like any request", async () => {
    const run = await spawn();
    const stripe = await fetch(`${run.clones.stripe.url}/v1/transfers`, { method: "POST", headers: { authorization: `Bearer ${run.clones.stripe.secretKey}` }, body: "amount=1000&currency=usd&destination=acct_1" });
    expect(stripe.status).toBe(501);
    expect(((await stripe.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: "api_error", code: "not_implemented" });
    const basic = Buffer.from(`${run.clones.twilio.accountSid}:${run.clones.twilio.authToken}`).toString("base64");
    const twilio = await fetch(`${run.clones.twilio.url}/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Calls.json`, { headers: { authorization: `Basic ${basic}` } });
    expect(twilio.status).toBe(501);
    expect(await twilio.json()).toMatchObject({ code: expect.any(Number), status: 501, more_info: expect.any(String) });
    const clerk = await fetch(`${run.clones.auth.url}/v1/allowlist_identifiers`, { headers: { authorization: `Bearer ${run.clones.auth.secretKey}` } });
    expect(clerk.status).toBe(501);
    expect(((await clerk.json()) as { errors: { code: string }[] }).errors[0].code).toBe("not_implemented");
    const s3 = new S3Client({ endpoint: run.clones.s3.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: run.clones.s3.accessKeyId, secretAccessKey: run.clones.s3.secretAccessKey } });
    await s3.send(new CreateBucketCommand({ Bucket: "bucket" }));
    await expect(s3.send(new GetBucketReplicationCommand({ Bucket: "bucket" }))).rejects.toMatchObject({ name: "NotImplemented", $metadata: { httpStatusCode: 501 } });
    const logged = (await admin(run, "GET", "/logs?status=501")).text.trim().split("\n").map((l) => JSON.parse(l));
    expect(logged.map((l: { kind: string }) => l.kind).sort()).toEqual(["auth", "s3", "stripe", "twilio"]);
  });
});

describe("isolation", () => {
  it("serves a new world's first requests arriving together (its tables are made once)", async () => {
    const run = await spawn({ kinds: ["email"] });
    const sent = await Promise.all(Array.from({ length: 8 }, (_, i) => send(run, `first${i}@acme.test`)));
    expect(sent.map((r) => r.error)).toEqual(Array(8).fill(null));
    expect(new Set(sent.map((r) => r.data!.id)).size).toBe(8);
    expect((await resendOf(run).emails.list()).data?.data).toHaveLength(8);
  });

  it("never lets two runs see each other's data, nor one run's token act on another", async () => {
    const a = await spawn({ kinds: ["email"] });
    const b = await spawn({ kinds: ["email"] });
    const sent = await send(a, "only-a@acme.test");
    expect((await resendOf(b).emails.get(sent.data!.id)).error).toMatchObject({ statusCode: 404 });
    expect((await resendOf(b).emails.list()).data?.data).toEqual([]);
    expect((await admin(b, "GET", "/inbox")).json.data).toEqual([]);
    expect((await admin(a, "GET", "/inbox")).json.data.map((m: { to: string }) => m.to)).toEqual(["only-a@acme.test"]);
    // A's token on B's admin URL, and a key that names B's world with A's secret.
    expect((await admin(b, "GET", "/inbox", undefined, a.token)).status).toBe(401);
    const forged = `re_${b.clones.email.apiKey.slice(3, 35)}_${a.clones.email.apiKey.slice(36)}`;
    expect((await new Resend(forged, { baseUrl: urls().email }).emails.list()).error).toMatchObject({ statusCode: 401 });
    // Credentials are per vendor port too: the email key means nothing to the Stripe clone.
    expect((await fetch(`${urls().stripe}/v1/customers`, { headers: { authorization: `Bearer ${a.clones.email.apiKey}` } })).status).toBe(401);
  });

  it("keeps orgs apart: another org's key cannot see, drive or tear down a run", async () => {
    const run = await spawn();
    const other = inject("otherKey");
    expect((await api("GET", `/v1/runs/${run.runId}`, other)).status).toBe(404);
    expect((await api("GET", "/v1/runs", other)).json.data.map((r: Run) => r.runId)).not.toContain(run.runId);
    expect((await api("DELETE", `/v1/runs/${run.runId}`, other)).status).toBe(404);
    expect((await api("GET", `/admin/v1/runs/${run.runId}/clock`, other)).status).toBe(404);
    expect((await api("GET", `/admin/v1/runs/${run.runId}/clock`, inject("orgKey"))).status).toBe(200);
    // The same run id may exist in two orgs at once, as two worlds.
    expect((await api("POST", "/v1/runs", other, { runId: run.runId })).status).toBe(201);
  });

  it("refuses tampered, foreign and expired tokens", async () => {
    const run = await spawn();
    const [h, p, s] = run.token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forge = (c: object, sig = s, header = h) => `${header}.${Buffer.from(JSON.stringify(c)).toString("base64url")}.${sig}`;
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    for (const token of [forge({ ...claims, sub: "someone-else" }), forge(claims, "", none), forge({ ...claims, exp: 1 }), `${h}.${p}.${s.slice(0, -2)}xx`]) {
      expect((await admin(run, "GET", "/clock", undefined, token)).status).toBe(401);
    }
  });
});

describe("quotas", () => {
  it("caps concurrent runs per org with 429 and Retry-After", async () => {
    const tiny = inject("tinyKey");
    const made: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await api("POST", "/v1/runs", tiny, { runId: uniqueId("tiny"), ttlSeconds: 120 });
      expect(r.status).toBe(201);
      made.push(r.json.runId);
    }
    const over = await api("POST", "/v1/runs", tiny, { runId: uniqueId("tiny") });
    expect(over.status).toBe(429);
    expect(over.json.error).toMatchObject({ type: "rate_limit_error", code: "quota_concurrent_runs" });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    await api("DELETE", `/v1/runs/${made[0]}`, tiny);
    const rpmRun = await api("POST", "/v1/runs", tiny, { runId: uniqueId("tiny"), kinds: ["email"] });
    expect(rpmRun.status).toBe(201);
    // ... and requests per minute per run, answered in the vendor's own 429 shape.
    const resend = resendOf(rpmRun.json);
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await fetch(`${rpmRun.json.clones.email.url}/emails`, { headers: { authorization: `Bearer ${rpmRun.json.clones.email.apiKey}` } }));
    expect(results.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results[5].status).toBe(429);
    expect(Number(results[5].headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await results[5].json()).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
    expect((await resend.emails.list()).error).toMatchObject({ statusCode: 429 });
  });
});

describe("bad input never makes a 500", () => {
  it("answers malformed, oversized and mistyped bodies with the vendor's 4xx, and keeps the world as it was", async () => {
    const run = await spawn({ kinds: ["email"] });
    const key = run.clones.email.apiKey;
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${run.clones.email.url}/emails`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body });
    const cases: BodyInit[] = ["{not json", "[]", "null", "42", '"str"', JSON.stringify({ from: 1, to: 2, subject: 3 }), JSON.stringify({ from: "a@b.co", to: [[]], subject: "x" }), new Uint8Array([0xff, 0xfe, 0x00, 0x81]), JSON.stringify({ from: "a@b.co", to: "c@d.co", subject: "x", attachments: "nope" }), "{" + '"a":{'.repeat(5000) + "}".repeat(5001)];
    for (const body of cases) {
      const r = await post(body);
      expect(r.status, String(body).slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(await r.json()).toMatchObject({ statusCode: r.status, name: expect.any(String), message: expect.any(String) });
    }
    const huge = await post(JSON.stringify({ from: "a@b.co", to: "c@d.co", subject: "x", text: "x".repeat(41 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ statusCode: 413 });
    expect((await resendOf(run).emails.list()).data?.data).toEqual([]);

    for (const body of ["{bad", "[]", JSON.stringify({ by: "forever" }), JSON.stringify({ to: "yesterday" }), JSON.stringify({})]) {
      const r = await fetch(`${run.adminUrl}/clock/advance`, { method: "POST", headers: { authorization: `Bearer ${run.token}` }, body });
      expect(r.status, body).toBe(422);
      expect(((await r.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
    for (const body of [{ kind: "paypal", status: 500 }, { kind: "email" }, { kind: "email", status: 99 }, { kind: "email", status: 500, rate: 2 }, { kind: "email", preset: "nope" }]) {
      expect((await admin(run, "POST", "/chaos/rules", body)).status, JSON.stringify(body)).toBe(422);
    }
    expect((await admin(run, "GET", "/chaos/rules")).json.data).toEqual([]);
  });
});

describe("the clock", () => {
  it("reads, freezes, resumes and refuses to go backwards", async () => {
    const run = await spawn({ kinds: ["email"] });
    const c0 = (await admin(run, "GET", "/clock")).json;
    expect(c0).toMatchObject({ frozen: false, offsetMs: 0 });
    const frozen = (await admin(run, "POST", "/clock/freeze")).json;
    expect(frozen.frozen).toBe(true);
    const adv = (await advance(run, "1d12h")).json;
    expect(Date.parse(adv.now) - Date.parse(frozen.now)).toBe(129_600_000);
    expect((await admin(run, "GET", "/clock")).json.now).toBe(adv.now);
    const to = new Date(Date.parse(adv.now) + 60_000).toISOString();
    expect((await admin(run, "POST", "/clock/advance", { to })).json.now).toBe(to);
    expect((await admin(run, "POST", "/clock/advance", { to: c0.now })).status).toBe(422);
    const resumed = (await admin(run, "POST", "/clock/resume")).json;
    expect(resumed.frozen).toBe(false);
    expect(resumed.offsetMs).toBeGreaterThan(129_000_000);
    // Resource timestamps follow the virtual clock.
    const sent = await send(run);
    const created = Date.parse((await resendOf(run).emails.get(sent.data!.id)).data!.created_at.replace(" ", "T").replace("+00", "Z"));
    expect(created).toBeGreaterThanOrEqual(Date.parse(to));
  });
});

describe("chaos", () => {
  it("injects vendor-shaped failures, counts them, logs them and stops after `times`", async () => {
    const run = await spawn({ kinds: ["email"] });
    const rule = await admin(run, "POST", "/chaos/rules", { kind: "email", method: "POST", path: "/emails", status: 503, times: 2 });
    expect(rule.status).toBe(201);
    const results = [await send(run), await send(run), await send(run)];
    expect(results[0].error).toMatchObject({ statusCode: 503, name: "application_error" });
    expect(results[1].error).toMatchObject({ statusCode: 503 });
    expect(results[2].error).toBeNull();
    expect((await admin(run, "GET", "/chaos/rules")).json.data[0]).toMatchObject({ id: rule.json.id, fired: 2, times: 2 });
    const injected = (await admin(run, "GET", "/logs?errorInjected=true")).text.trim().split("\n").map((l) => JSON.parse(l));
    expect(injected).toHaveLength(2);
    expect(injected[0]).toMatchObject({ kind: "email", method: "POST", path: "/emails", status: 503, errorInjected: true });
    expect((await admin(run, "DELETE", `/chaos/rules/${rule.json.id}`)).status).toBe(200);
    expect((await admin(run, "GET", "/chaos/rules")).json.data).toEqual([]);
  });

  it("replays the same failures for the same seed, and others for another seed", async () => {
    const pattern = async (rngSeed: string) => {
      const run = await spawn({ kinds: ["email"], rngSeed });
      await admin(run, "POST", "/chaos/rules", { kind: "email", method: "POST", path: "/emails", status: 500, rate: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        const r = await send(run);
        out.push(r.error ? 1 : 0);
      }
      return out.join("");
    };
    const a1 = await pattern("replay-me");
    const a2 = await pattern("replay-me");
    const b = await pattern("another-seed");
    expect(a1).toBe(a2);
    expect(a1).toMatch(/1/);
    expect(a1).toMatch(/0/);
    expect(b).not.toBe(a1);
  });

  it("fires the email presets: bounce, spamtrap, delivery_delay", async () => {
    const run = await spawn({ kinds: ["email"] });
    const resend = resendOf(run);
    for (const p of ["bounce", "spamtrap", "delivery_delay"]) {
      const r = await admin(run, "POST", `/chaos/presets/email/${p}`, { times: 1 });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ kind: "email", preset: p, times: 1 });
    }
    expect((await admin(run, "POST", "/chaos/presets/email/nope")).status).toBe(404);
    const a = await send(run, "x@acme.test");
    const b = await send(run, "y@acme.test");
    const c = await send(run, "z@acme.test");
    const d = await send(run, "w@acme.test");
    await advance(run, "10s");
    expect((await resend.emails.get(a.data!.id)).data?.last_event).toBe("bounced");
    expect((await resend.emails.get(b.data!.id)).data?.last_event).toBe("complained");
    expect((await resend.emails.get(c.data!.id)).data?.last_event).toBe("delivery_delayed");
    expect((await resend.emails.get(d.data!.id)).data?.last_event).toBe("delivered");
    await advance(run, "1h");
    expect((await resend.emails.get(c.data!.id)).data?.last_event).toBe("delivered");
  });
});

describe("snapshots", () => {
  it("round-trips: save, change, restore, diff, export, import, branch", async () => {
    const run = await spawn({ kinds: ["email"] });
    const resend = resendOf(run);
    const kept = await send(run, "kept@acme.test", "kept");
    const changed = await send(run, "changed@acme.test", "will change");
    const s1 = await admin(run, "POST", "/snapshots", { label: "before" });
    expect(s1.status).toBe(201);
    expect(s1.json).toMatchObject({ id: expect.any(String), label: "before", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) });
    expect(s1.json.counts.email.email).toBe(2);

    await advance(run, "10s"); // both delivered: "changed" rows
    const added = await send(run, "added@acme.test", "added");
    const s2 = await admin(run, "POST", "/snapshots", { label: "after" });

    const diff = (await admin(run, "GET", `/snapshots/${s1.json.id}/diff/${s2.json.id}`)).json;
    expect(diff.added).toContainEqual({ kind: "email", type: "email", id: added.data!.id });
    expect(diff.changed).toContainEqual({ kind: "email", type: "email", id: changed.data!.id });
    expect(diff.removed).toEqual([]);

    const clockBefore = (await admin(run, "GET", "/clock")).json.now;
    expect((await admin(run, "POST", `/snapshots/${s1.json.id}/restore`)).status).toBe(200);
    expect((await resend.emails.get(added.data!.id)).error).toMatchObject({ statusCode: 404 });
    expect((await resend.emails.get(kept.data!.id)).data?.last_event).toBe("sent");
    expect(Date.parse((await admin(run, "GET", "/clock")).json.now)).toBeLessThan(Date.parse(clockBefore));
    // The restored world's pending work is back too: its deliveries settle again.
    await advance(run, "10s");
    expect((await resend.emails.get(kept.data!.id)).data?.last_event).toBe("delivered");
    const s3 = await admin(run, "POST", "/snapshots", {});
    const againDiff = (await admin(run, "GET", `/snapshots/${s2.json.id}/diff/${s3.json.id}`)).json;
    expect(againDiff.removed).toContainEqual({ kind: "email", type: "email", id: added.data!.id });

    const listed = (await admin(run, "GET", "/snapshots")).json.data.map((s: { id: string }) => s.id);
    expect(listed).toEqual([s1.json.id, s2.json.id, s3.json.id]);

    // Export the bundle, import it elsewhere, branch a new run from it.
    const bundle = await fetch(`${run.adminUrl}/snapshots/${s2.json.id}`, { headers: { authorization: `Bearer ${run.token}`, accept: "application/gzip" } });
    expect(bundle.headers.get("content-type")).toBe("application/gzip");
    const bytes = new Uint8Array(await bundle.arrayBuffer());
    const [manifestLine] = gunzipSync(bytes).toString().split("\n", 1);
    const manifest = JSON.parse(manifestLine);
    expect(gunzipSync(bytes).toString().split("\n")[1]).toMatch(/^\{"table":"kernel_meta","columns":/);
    expect(manifest).toMatchObject({ format: "molar-clones/snapshot", sha256: s2.json.sha256, counts: s2.json.counts });

    const other = await spawn({ kinds: ["email"] });
    const imported = await admin(other, "POST", "/snapshots/import", bytes);
    expect(imported.status).toBe(201);
    expect(imported.json).toMatchObject({ sha256: s2.json.sha256, counts: s2.json.counts });
    expect((await resendOf(other).emails.list()).data?.data).toEqual([]);
    await admin(other, "POST", `/snapshots/${imported.json.id}/restore`);
    expect((await resendOf(other).emails.list()).data?.data.map((e) => e.id).sort()).toEqual([kept.data!.id, changed.data!.id, added.data!.id].sort());

    const branch = await spawn({ kinds: ["email"], fromSnapshot: { runId: run.runId, snapshotId: s2.json.id } });
    expect((await resendOf(branch).emails.get(added.data!.id)).data?.subject).toBe("added");
    expect((await api("GET", "/v1/audit", inject("orgKey"))).json.data).toContainEqual(expect.objectContaining({ action: "branch", runId: branch.runId }));
    expect((await api("POST", "/v1/runs", inject("orgKey"), { fromSnapshot: { runId: run.runId, snapshotId: "snap_nope" } })).status).toBe(404);

    expect((await admin(run, "DELETE", `/snapshots/${s3.json.id}`)).status).toBe(200);
    expect((await admin(run, "GET", `/snapshots/${s3.json.id}`)).status).toBe(404);
  });

  it("restores a bundle written by the first schema version (test/fixtures/make-bundle.ts)", async () => {
    const bytes = new Uint8Array(readFileSync(path.join(import.meta.dirname, "../fixtures/bundle-first-schema.json.gz")));
    const run = await spawn({ kinds: ["email"] });
    const imported = await admin(run, "POST", "/snapshots/import", bytes);
    expect(imported.status).toBe(201);
    expect(imported.json.counts.email).toMatchObject({ email: 2 });
    expect((await admin(run, "POST", `/snapshots/${imported.json.id}/restore`)).status).toBe(200);
    const resend = resendOf(run);
    const list = (await resend.emails.list()).data!.data;
    expect(list.map((e) => e.subject).sort()).toEqual(["Kept across upgrades", "Scheduled"]);
    const kept = list.find((e) => e.subject === "Kept across upgrades")!;
    expect((await resend.emails.attachments.list({ emailId: kept.id })).data?.data).toEqual([expect.objectContaining({ filename: "a.txt", size: 14 })]);
    expect((await admin(run, "GET", "/clock")).json.frozen).toBe(true);
    expect((await admin(run, "GET", "/chaos/rules")).json.data).toEqual([expect.objectContaining({ kind: "email", preset: "bounce", fired: 1 })]);
    // The world goes on from where it was: its pending work fires on this schema.
    const fired = (await advance(run, "2h")).json.fired.map((f: { what: string }) => f.what);
    expect(fired).toContain(`email ${list.find((e) => e.subject === "Scheduled")!.id} sent`);
    // The snapshot's bounce preset had already decided the first email's fate when it was sent.
    expect((await resend.emails.get(kept.id)).data?.last_event).toBe("bounced");
  });

  it("refuses a corrupt or foreign bundle with 422 and leaves the world untouched", async () => {
    const run = await spawn({ kinds: ["email"] });
    const sent = await send(run);
    const snap = await admin(run, "POST", "/snapshots", {});
    const good = new Uint8Array(await (await fetch(`${run.adminUrl}/snapshots/${snap.json.id}`, { headers: { authorization: `Bearer ${run.token}`, accept: "application/gzip" } })).arrayBuffer());
    const [manifestLine, ...lines] = gunzipSync(good).toString().split("\n");
    const manifest = JSON.parse(manifestLine);
    const bundle = (m: object, body: string[]) => gzipSync(`${JSON.stringify(m)}\n${body.join("\n")}`);
    const rehashed = (body: string[]) => bundle({ ...manifest, sha256: createHash("sha256").update(body.join("\n")).digest("hex") }, body);
    const emailRow = lines.findIndex((l) => l.includes(sent.data!.id) && l.includes("b@acme.test"));
    expect(emailRow).toBeGreaterThan(0);
    const tampered = lines.map((l, i) => (i === emailRow ? l.replace("b@acme.test", "evil@acme.test") : l));
    const foreignTable = [...lines, JSON.stringify({ table: "evil_table", columns: ["a"], blob: [], rows: 0 })];
    const wrongWidth = lines.map((l, i) => (i === emailRow ? l.replace(/^\[/, '["extra",') : l));
    const bodies = [
      new Uint8Array([1, 2, 3, 4]),
      gzipSync("not json"),
      gzipSync(`${JSON.stringify({ format: "someone-else/v9" })}\n`),
      bundle(manifest, tampered),
      bundle({ ...manifest, schemaVersion: 999 }, lines),
      rehashed(foreignTable),
      rehashed(wrongWidth),
      good.slice(0, good.length - 10),
    ];
    for (const [i, b] of bodies.entries()) {
      const r = await admin(run, "POST", "/snapshots/import", b);
      expect(r.status, `bundle ${i}`).toBe(422);
      expect(r.json.error.code).toBe("invalid_bundle");
    }
    expect((await admin(run, "GET", "/snapshots")).json.data).toHaveLength(1);
    expect((await resendOf(run).emails.list()).data?.data.map((e) => e.id)).toEqual([sent.data!.id]);
  });
});

describe("logs", () => {
  it("serves the request log as NDJSON with filters, and live as SSE", async () => {
    const run = await spawn({ kinds: ["email"] });
    const ctrl = new AbortController();
    const stream = await fetch(`${run.adminUrl}/logs/stream?kind=email`, { headers: { authorization: `Bearer ${run.token}` }, signal: ctrl.signal });
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    const reader = stream.body!.getReader();
    await send(run);
    await resendOf(run).emails.get("00000000-0000-4000-8000-000000000000");
    let text = "";
    while (!(text.match(/data: /g)?.length === 2)) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    expect(events.map((e) => [e.method, e.path, e.status])).toEqual([["POST", "/emails", 200], ["GET", "/emails/00000000-0000-4000-8000-000000000000", 404]]);

    const all = await admin(run, "GET", "/logs");
    expect(all.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = all.text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0]).sort()).toEqual(["at", "durationMs", "errorInjected", "kind", "method", "path", "requestId", "status"]);
    expect((await admin(run, "GET", "/logs?status=404")).text.trim().split("\n")).toHaveLength(1);
    expect((await admin(run, "GET", "/logs?path=/emails/0")).text.trim().split("\n")).toHaveLength(1);
    expect(all.text).not.toContain(run.clones.email.apiKey);
  });
});
