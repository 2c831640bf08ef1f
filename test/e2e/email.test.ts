// The email clone through the official `resend` SDK; webhooks verified by `svix`'s own verifier.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { Resend } from "resend";
import { Webhook } from "svix";
import { admin, advance, receiver, spawn, type Run } from "./helpers.ts";

/** Verifies a delivery with svix's own verifier (which throws when it fails), then reads it. */
function verified<T>(secret: string, g: { body: string; headers: Record<string, unknown> }): T {
  new Webhook(secret).verify(g.body, { "svix-id": g.headers["svix-id"] as string, "svix-timestamp": g.headers["svix-timestamp"] as string, "svix-signature": g.headers["svix-signature"] as string });
  return JSON.parse(g.body) as T;
}

const resendOf = (run: Run) => new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });

describe("email clone (Resend) through the resend SDK", () => {
  let run: Run;
  let resend: Resend;
  beforeAll(async () => {
    run = await spawn({ kinds: ["email"] });
    resend = resendOf(run);
  });

  it("sends, gets and lists with Resend's shapes", async () => {
    const sent = await resend.emails.send({
      from: "Acme <onboarding@acme.test>",
      to: ["delivered@resend.dev"],
      cc: "cc@acme.test",
      subject: "Welcome",
      html: "<p>Hello</p>",
      text: "Hello",
      replyTo: "support@acme.test",
      tags: [{ name: "category", value: "welcome" }],
      headers: { "X-Entity-Ref-ID": "123" },
    });
    expect(sent.error).toBeNull();
    expect(sent.data?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const got = await resend.emails.get(sent.data!.id);
    expect(got.error).toBeNull();
    expect(got.data).toMatchObject({
      object: "email",
      id: sent.data!.id,
      to: ["delivered@resend.dev"],
      cc: ["cc@acme.test"],
      from: "Acme <onboarding@acme.test>",
      subject: "Welcome",
      html: "<p>Hello</p>",
      text: "Hello",
      reply_to: ["support@acme.test"],
      last_event: "sent",
      scheduled_at: null,
    });
    expect(got.data!.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+00$/);

    await advance(run, "5s");
    expect((await resend.emails.get(sent.data!.id)).data?.last_event).toBe("delivered");

    const list = await resend.emails.list();
    expect(list.error).toBeNull();
    expect(list.data?.object).toBe("list");
    expect(list.data?.data.map((e) => e.id)).toContain(sent.data!.id);
  });

  it("pages newest first with limit/after/before and has_more", async () => {
    const r = resendOf(await spawn({ kinds: ["email"] }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await r.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: `n${i}`, text: "x" })).data!.id);
    const p1 = await r.emails.list({ limit: 2 });
    expect(p1.data!.data.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(p1.data!.has_more).toBe(true);
    const p2 = await r.emails.list({ limit: 2, after: ids[3] });
    expect(p2.data!.data.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const p3 = await r.emails.list({ limit: 2, after: ids[1] });
    expect(p3.data!.data.map((e) => e.id)).toEqual([ids[0]]);
    expect(p3.data!.has_more).toBe(false);
    const back = await r.emails.list({ limit: 2, before: ids[1] });
    expect(back.data!.data.map((e) => e.id)).toEqual([ids[3], ids[2]]);
    const bad = await r.emails.list({ limit: 101 });
    expect(bad.error).toMatchObject({ statusCode: 422, name: "validation_error" });
  });

  it("batches, strictly and permissively", async () => {
    const ok = await resend.batch.send([
      { from: "a@acme.test", to: "x@acme.test", subject: "1", text: "1" },
      { from: "a@acme.test", to: "y@acme.test", subject: "2", text: "2" },
    ]);
    expect(ok.error).toBeNull();
    expect(ok.data?.data).toHaveLength(2);
    for (const { id } of ok.data!.data) expect((await resend.emails.get(id)).data?.subject).toMatch(/^[12]$/);

    const strict = await resend.batch.send([
      { from: "a@acme.test", to: "x@acme.test", subject: "1", text: "1" },
      { from: "not an address", to: "y@acme.test", subject: "2", text: "2" },
    ]);
    expect(strict.error).toMatchObject({ statusCode: 422, name: "invalid_from_address" });

    const permissive = await resend.batch.send(
      [
        { from: "a@acme.test", to: "x@acme.test", subject: "1", text: "1" },
        { from: "a@acme.test", to: "nope", subject: "2", text: "2" },
      ],
      { batchValidation: "permissive" },
    );
    expect(permissive.error).toBeNull();
    expect(permissive.data?.data).toHaveLength(1);
    expect((permissive.data as unknown as { errors: { index: number }[] }).errors).toEqual([{ index: 1, message: expect.stringContaining("`to`") }]);
  });

  it("schedules on the run clock, reschedules and cancels", async () => {
    const r2 = await spawn({ kinds: ["email"] });
    const r = resendOf(r2);
    const at = new Date(Date.parse((await admin(r2, "GET", "/clock")).json.now) + 3_600_000).toISOString();
    const later = await r.emails.send({ from: "a@acme.test", to: "sched@acme.test", subject: "later", text: "x", scheduledAt: at });
    const cancelMe = await r.emails.send({ from: "a@acme.test", to: "never@acme.test", subject: "never", text: "x", scheduledAt: "in 1 hour" });
    expect((await r.emails.get(later.data!.id)).data).toMatchObject({ last_event: "scheduled" });

    const resched = await r.emails.update({ id: later.data!.id, scheduledAt: new Date(Date.parse(at) + 3_600_000).toISOString() });
    expect(resched.error).toBeNull();
    const cancelled = await r.emails.cancel(cancelMe.data!.id);
    expect(cancelled.error).toBeNull();
    expect((await r.emails.get(cancelMe.data!.id)).data?.last_event).toBe("canceled");
    expect((await r.emails.cancel(cancelMe.data!.id)).error).toMatchObject({ statusCode: 422 });

    // One hour on: the rescheduled mail is not due yet; two hours and a bit: it goes out.
    await advance(r2, "1h1m");
    expect((await r.emails.get(later.data!.id)).data?.last_event).toBe("scheduled");
    const fired = (await advance(r2, "1h")).json.fired as { kind: string; what: string; at: string }[];
    expect(fired.map((f) => f.what)).toEqual([`email ${later.data!.id} sent`, `email ${later.data!.id} delivered`]);
    expect(Date.parse(fired[0].at)).toBeLessThan(Date.parse(fired[1].at));
    const inbox = (await admin(r2, "GET", "/inbox?channel=email")).json.data;
    expect(inbox.map((m: { to: string }) => m.to)).toEqual(["sched@acme.test"]);
  });

  it("answers Resend's errors: validation, not found, auth, idempotency", async () => {
    expect((await resend.emails.send({ from: "a@acme.test", subject: "x", text: "x" } as never)).error).toMatchObject({ statusCode: 422, name: "missing_required_field", message: "Missing `to` field." });
    expect((await resend.emails.send({ from: "bad", to: "b@acme.test", subject: "x", text: "x" })).error).toMatchObject({ statusCode: 422, name: "invalid_from_address" });
    expect((await resend.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "x", text: "x", tags: [{ name: "no spaces", value: "v" }] })).error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect((await resend.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "x", attachments: [{ filename: "a.txt" }] } as never)).error).toMatchObject({ statusCode: 422, name: "invalid_attachment" });
    expect((await resend.emails.get("00000000-0000-4000-8000-000000000000")).error).toMatchObject({ statusCode: 404, name: "not_found" });
    const wrong = new Resend(run.clones.email.apiKey.slice(0, -3) + "xyz", { baseUrl: run.clones.email.url });
    expect((await wrong.emails.list()).error).toMatchObject({ statusCode: 401, name: "invalid_api_key" });

    const body = { from: "a@acme.test", to: "b@acme.test", subject: "idem", text: "x" };
    const first = await resend.emails.send(body, { idempotencyKey: "order-1" });
    const again = await resend.emails.send(body, { idempotencyKey: "order-1" });
    expect(again.data?.id).toBe(first.data?.id);
    const other = await resend.emails.send({ ...body, subject: "other" }, { idempotencyKey: "order-1" });
    expect(other.error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
  });

  it("stores attachments by content and lists them", async () => {
    const content = Buffer.from("hello attachment").toString("base64");
    const sent = await resend.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "att", text: "x", attachments: [{ filename: "a.txt", content }] });
    expect(sent.error).toBeNull();
    const list = await resend.emails.attachments.list({ emailId: sent.data!.id });
    expect(list.error).toBeNull();
    expect(list.data?.data).toEqual([expect.objectContaining({ filename: "a.txt", size: 16 })]);
  });

  it("creates, verifies and lists domains; mints API keys that work", async () => {
    const d = await resend.domains.create({ name: "mail.acme.test" });
    expect(d.error).toBeNull();
    expect(d.data).toMatchObject({ name: "mail.acme.test", status: "not_started", region: "us-east-1" });
    expect(d.data!.records.length).toBeGreaterThan(0);
    expect((await resend.domains.create({ name: "mail.acme.test" })).error).toMatchObject({ statusCode: 403 });
    await resend.domains.verify(d.data!.id);
    expect((await resend.domains.get(d.data!.id)).data?.status).toBe("pending");
    await advance(run, "10s");
    expect((await resend.domains.get(d.data!.id)).data?.status).toBe("verified");
    expect((await resend.domains.list()).data?.data.map((x) => x.name)).toContain("mail.acme.test");

    const key = await resend.apiKeys.create({ name: "ci" });
    expect(key.data?.token).toMatch(/^re_/);
    const viaKey = new Resend(key.data!.token, { baseUrl: run.clones.email.url });
    expect((await viaKey.emails.list()).error).toBeNull();
    expect((await resend.apiKeys.list()).data?.data.map((k) => k.name)).toContain("ci");
    await resend.apiKeys.remove(key.data!.id);
    expect((await viaKey.emails.list()).error).toMatchObject({ statusCode: 401 });
  });

  it("answers a Resend-shaped 501 for operations not built, and 404 for unknown routes", async () => {
    const res = await fetch(`${run.clones.email.url}/topics`, { headers: { authorization: `Bearer ${run.clones.email.apiKey}` } });
    expect(res.status).toBe(501);
    expect(await res.json()).toMatchObject({ statusCode: 501, name: "not_implemented" });
    const unknown = await fetch(`${run.clones.email.url}/nope`, { headers: { authorization: `Bearer ${run.clones.email.apiKey}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ statusCode: 404, name: "not_found" });
    const logs = (await admin(run, "GET", "/logs?status=501")).text.trim().split("\n").map((l) => JSON.parse(l));
    expect(logs).toEqual([expect.objectContaining({ kind: "email", method: "GET", path: "/topics", status: 501 })]);
  });
});

describe("email webhooks: svix-signed, retried on the clock, nothing lost", () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hooks = await receiver();
  });
  afterAll(() => hooks.close());

  it("delivers every lifecycle event in order, each verified by svix", async () => {
    const run = await spawn({ kinds: ["email"] });
    const ep = await admin(run, "POST", "/webhooks/endpoints", { kind: "email", url: hooks.url });
    expect(ep.status).toBe(201);
    expect(ep.json.secret).toMatch(/^whsec_/);
    const resend = resendOf(run);
    const ok = await resend.emails.send({ from: "a@acme.test", to: "delivered@resend.dev", subject: "s", text: "x", tags: [{ name: "flow", value: "signup" }] });
    const bounced = await resend.emails.send({ from: "a@acme.test", to: "bounced@resend.dev", subject: "s", text: "x" });
    const complained = await resend.emails.send({ from: "a@acme.test", to: "complained@resend.dev", subject: "s", text: "x" });
    await advance(run, "1m");

    const events = hooks.got.map((g) => {
      const v = verified<{ type: string; data: { email_id: string; tags?: Record<string, string>; bounce?: unknown } }>(ep.json.secret, g);
      return { type: v.type, id: v.data.email_id, data: v.data };
    });
    const of = (id: string) => events.filter((e) => e.id === id).map((e) => e.type);
    expect(of(ok.data!.id)).toEqual(["email.sent", "email.delivered"]);
    expect(of(bounced.data!.id)).toEqual(["email.sent", "email.bounced"]);
    expect(of(complained.data!.id)).toEqual(["email.sent", "email.delivered", "email.complained"]);
    expect(events.find((e) => e.id === ok.data!.id)!.data.tags).toEqual({ flow: "signup" });
    expect(events.find((e) => e.type === "email.bounced")!.data.bounce).toMatchObject({ type: "Permanent" });
    // A tampered body fails the same verifier.
    expect(() => new Webhook(ep.json.secret).verify(hooks.got[0].body.replace("email", "emai1"), { "svix-id": hooks.got[0].headers["svix-id"] as string, "svix-timestamp": hooks.got[0].headers["svix-timestamp"] as string, "svix-signature": hooks.got[0].headers["svix-signature"] as string })).toThrow();
    expect((await resend.emails.get(complained.data!.id)).data?.last_event).toBe("complained");
    expect((await resend.emails.get(bounced.data!.id)).data?.last_event).toBe("bounced");
  });

  it("retries a failing receiver with backoff on the clock and loses nothing; redelivers on demand", async () => {
    const run = await spawn({ kinds: ["email"] });
    const ep = await admin(run, "POST", "/webhooks/endpoints", { kind: "email", url: hooks.url, events: ["email.sent"] });
    hooks.got.length = 0;
    hooks.state.fail = true;
    const sent = await resendOf(run).emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x" });
    await advance(run, "1s");
    let d = (await admin(run, "GET", "/webhooks/deliveries")).json.data;
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ kind: "email", event: "email.sent", status: "pending", attempts: 1, lastError: "HTTP 500" });
    const next1 = Date.parse(d[0].nextAttemptAt);
    await advance(run, "6s");
    d = (await admin(run, "GET", "/webhooks/deliveries")).json.data;
    expect(d[0].attempts).toBe(2);
    expect(Date.parse(d[0].nextAttemptAt) - next1).toBeGreaterThanOrEqual(290_000);

    hooks.state.fail = false;
    await advance(run, "5m");
    d = (await admin(run, "GET", "/webhooks/deliveries")).json.data;
    expect(d[0]).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(hooks.got).toHaveLength(1);
    const msg = verified<{ data: { email_id: string } }>(ep.json.secret, hooks.got[0]);
    expect(msg.data.email_id).toBe(sent.data!.id);

    const again = await admin(run, "POST", `/webhooks/deliveries/${d[0].id}/redeliver`);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: "succeeded", attempts: 4 });
    expect(hooks.got).toHaveLength(2);
    expect(hooks.got[1].headers["svix-id"]).toBe(hooks.got[0].headers["svix-id"]);
  });

  it("gives up after Svix's schedule and keeps the message for redelivery", async () => {
    const run = await spawn({ kinds: ["email"] });
    await admin(run, "POST", "/webhooks/endpoints", { kind: "email", url: hooks.url, events: ["email.sent"] });
    hooks.state.fail = true;
    await resendOf(run).emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x" });
    await advance(run, "2d");
    hooks.state.fail = false;
    const d = (await admin(run, "GET", "/webhooks/deliveries")).json.data;
    expect(d[0]).toMatchObject({ status: "failed", attempts: 8 });
    const detail = (await admin(run, "GET", `/webhooks/deliveries/${d[0].id}`)).json;
    expect(detail.history).toHaveLength(8);
    const times = detail.history.map((h: { at: string }) => Date.parse(h.at));
    const gaps = times.slice(1).map((t: number, i: number) => Math.round((t - times[i]) / 1000));
    expect(gaps).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect((await admin(run, "POST", `/webhooks/deliveries/${d[0].id}/redeliver`)).json.status).toBe("succeeded");
  });

  it("supports Resend's own webhook API on the same endpoints", async () => {
    const run = await spawn({ kinds: ["email"] });
    const resend = resendOf(run);
    const created = await resend.webhooks.create({ endpoint: hooks.url, events: ["email.delivered"] });
    expect(created.error).toBeNull();
    expect(created.data?.signing_secret).toMatch(/^whsec_/);
    hooks.got.length = 0;
    await resend.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x" });
    await advance(run, "10s");
    expect(hooks.got.map((g) => JSON.parse(g.body).type)).toEqual(["email.delivered"]);
    expect(() =>
      resend.webhooks.verify({
        payload: hooks.got[0].body,
        headers: { id: hooks.got[0].headers["svix-id"] as string, timestamp: hooks.got[0].headers["svix-timestamp"] as string, signature: hooks.got[0].headers["svix-signature"] as string },
        webhookSecret: created.data!.signing_secret,
      }),
    ).not.toThrow();
    expect((await resend.webhooks.list()).data?.data.map((w) => w.id)).toEqual([created.data!.id]);
    expect((await admin(run, "GET", "/webhooks/endpoints")).json.data.map((e: { id: string }) => e.id)).toEqual([created.data!.id]);
  });
});
