// The SDK as a test author uses it: service mode against the suite's runner, and library mode
// starting its own clones in this process.
import { describe, expect, it, inject, beforeAll, afterAll } from "vitest";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Resend } from "resend";
import { ClonesError, clones } from "../../src/sdk/index.ts";
import { test as withRun } from "../../src/sdk/vitest.ts";
import { api } from "./helpers.ts";

describe("SDK, service mode (MOLAR_CLONES_CTRL_URL)", () => {
  beforeAll(() => {
    process.env.MOLAR_CLONES_CTRL_URL = inject("urls").control;
    process.env.MOLAR_CLONES_API_TOKEN = inject("orgKey");
  });
  afterAll(() => {
    delete process.env.MOLAR_CLONES_CTRL_URL;
    delete process.env.MOLAR_CLONES_API_TOKEN;
  });

  it("spawns a run whose configs feed the official SDKs, and drives it", async () => {
    const run = await clones.start({ kinds: ["email", "stripe", "s3", "auth"], ttl: "10m", metadata: { suite: "sdk" } });
    expect(run.stripe.config).toEqual({ host: "127.0.0.1", port: Number(new URL(inject("urls").stripe).port), protocol: "http" });
    expect(run.s3.config).toMatchObject({ endpoint: inject("urls").s3, forcePathStyle: true, credentials: { accessKeyId: run.clones.s3!.accessKeyId } });
    expect(run.auth.config).toMatchObject({ apiUrl: inject("urls").auth, secretKey: run.clones.auth!.secretKey });
    expect(() => run.twilio).toThrow(ClonesError);

    const resend = new Resend(run.email.apiKey, run.email.config);
    const hooksBefore = await run.webhooks.deliveries();
    expect(hooksBefore).toEqual([]);
    const sent = await resend.emails.send({ from: "a@acme.test", to: "reader@acme.test", subject: "Your code", text: "code 123456" });
    expect(sent.error).toBeNull();
    const msg = await run.inbox.waitFor({ to: "reader@acme.test", channel: "email" });
    expect(msg).toMatchObject({ subject: "Your code", ref: sent.data!.id });

    const snap = await run.snapshots.save("before");
    const fired = await run.clock.advance("5s");
    expect(fired.fired.map((f) => f.what)).toEqual([`email ${sent.data!.id} delivered`]);
    await run.snapshots.restore(snap.id);
    expect((await resend.emails.get(sent.data!.id)).data?.last_event).toBe("sent");
    const bundle = await run.snapshots.export(snap.id);
    expect(bundle[0]).toBe(0x1f);
    expect((await run.snapshots.import(bundle)).sha256).toBe(snap.sha256);

    const rule = await run.chaos.preset("email", "bounce", { times: 1 });
    expect((await run.chaos.list()).map((r) => r.id)).toEqual([rule.id]);
    expect((await run.logs({ kind: "email" })).map((l) => l.path)).toContain("/emails");

    const file = path.join(os.tmpdir(), `molar-sdk-${process.pid}.env`);
    await run.writeEnv(file);
    expect(await readFile(file, "utf8")).toContain(`RESEND_API_KEY=${run.email.apiKey}`);
    await rm(file);

    await run.teardown();
    expect((await api("GET", `/v1/runs/${run.runId}`, inject("orgKey"))).json.status).toBe("torn_down");
    await expect(run.clock.now()).rejects.toMatchObject({ status: 401 });
  });

  it("attaches to a run an env block describes, spawning nothing (PR previews, BYOC)", async () => {
    const run = await clones.start({ kinds: ["email"] });
    const attached = clones.attach(run.env);
    expect(attached.runId).toBe(run.runId);
    expect(attached.email.config).toEqual(run.email.config);
    const sent = await new Resend(attached.email.apiKey, attached.email.config).emails.send({ from: "a@acme.test", to: "env@acme.test", subject: "s", text: "x" });
    expect(sent.error).toBeNull();
    expect((await attached.inbox.list({ to: "env@acme.test" })).map((m) => m.ref)).toEqual([sent.data!.id]);
    await expect(attached.teardown()).rejects.toMatchObject({ code: "no_control_api" });
    expect(() => clones.attach({})).toThrow(/MOLAR_CLONE_<KIND>_URL/);
    await run.teardown();
  });

  it("snapshots a world of several runs and restores it, reporting each component", async () => {
    const [a, b] = await Promise.all([clones.start({ kinds: ["email"] }), clones.start({ kinds: ["email"] })]);
    const send = (run: typeof a, subject: string) => new Resend(run.email.apiKey, run.email.config).emails.send({ from: "a@acme.test", to: "w@acme.test", subject, text: "x" });
    await send(a, "one");
    await send(b, "one");
    const world = await clones.world.snapshot({ label: "both", runs: [a, b] });
    expect(world.refs.map((r) => r.runId)).toEqual([a.runId, b.runId]);
    await send(a, "two");
    await send(b, "two");
    const seen: string[] = [];
    const r = await clones.world.restore(world, { runs: [a, b], onProgress: (c) => seen.push(`${c.runId}:${c.status}`) });
    expect(r.restored).toBe(true);
    expect(seen).toEqual([`${a.runId}:restored`, `${b.runId}:restored`]);
    for (const run of [a, b]) expect((await new Resend(run.email.apiKey, run.email.config).emails.list()).data!.data.map((m) => m.subject)).toEqual(["one"]);
    // A part without a handle is reported, not skipped silently.
    const partial = await clones.world.restore(world, { runs: [a] });
    expect(partial.restored).toBe(false);
    expect(partial.components[1]).toMatchObject({ runId: b.runId, status: "failed", error: expect.stringContaining("opts.runs") });

    // The same across registered endpoints, kept by the control plane.
    const fa = await clones.fleet.register({ kind: "email", apiUrl: a.email.url, adminUrl: a.adminUrl, adminToken: a.token, labels: { sdk: "yes" } });
    expect((await clones.fleet.list({ label: "sdk=yes" })).map((e) => e.id)).toContain(fa.id);
    expect((await clones.fleet.check(fa.id)).health.status).toBe("healthy");
    const fw = await clones.world.snapshot({ label: "fleet", endpoints: [fa.id] });
    await send(a, "three");
    expect((await clones.world.restore(fw.id)).components).toEqual([expect.objectContaining({ endpointId: fa.id, status: "restored" })]);
    expect((await new Resend(a.email.apiKey, a.email.config).emails.list()).data!.data.map((m) => m.subject)).toEqual(["one"]);
    expect((await clones.world.list()).map((w) => w.id)).toContain(fw.id);
    await clones.fleet.remove(fa.id);
    await Promise.all([a.teardown(), b.teardown()]);
  });

  it("says what to do when misconfigured", async () => {
    delete process.env.MOLAR_CLONES_API_TOKEN;
    await expect(clones.start()).rejects.toThrow(/MOLAR_CLONES_API_TOKEN/);
    process.env.MOLAR_CLONES_API_TOKEN = "wrong-key-wrong-key";
    await expect(clones.start()).rejects.toMatchObject({ status: 401, code: "invalid_api_key" });
    process.env.MOLAR_CLONES_API_TOKEN = inject("orgKey");
    await expect(clones.start({ ttl: "soon" })).rejects.toMatchObject({ code: "invalid_ttl" });
  });

  withRun.scoped({ runOptions: { kinds: ["email"] } });
  withRun("the Vitest fixture gives each test its own run and tears it down after", async ({ run }) => {
    expect(run.clones.email).toBeDefined();
    expect(run.clones.stripe).toBeUndefined();
    expect(await run.inbox.list()).toEqual([]);
  });
});

describe("SDK, library mode", () => {
  afterAll(() => clones.stop());

  it("starts the clones in this process on first use and spawns a fresh run per call", async () => {
    const t0 = performance.now();
    const a = await clones.start({ kinds: ["email"] });
    const first = performance.now() - t0;
    const t1 = performance.now();
    const b = await clones.start({ kinds: ["email"] });
    const second = performance.now() - t1;
    expect(await clones.controlUrl()).not.toBe(inject("urls").control);
    expect(a.runId).not.toBe(b.runId);
    const sent = await new Resend(a.email.apiKey, a.email.config).emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x" });
    expect(sent.error).toBeNull();
    expect(await b.inbox.list()).toEqual([]);
    console.log(`library mode: first start ${first.toFixed(0)} ms, next ${second.toFixed(1)} ms`);
  });
});
