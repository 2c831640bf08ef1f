// BYOC fleets (issue 9) and world snapshots across them (issue 7): long-lived endpoints
// registered per kind, health-checked, snapshotted and restored together.
import { describe, expect, it, inject } from "vitest";
import { Resend } from "resend";
import { api, spawn, type Run } from "./helpers.ts";

const register = (run: Run, kind: string, extra: Record<string, unknown> = {}) =>
  api("POST", "/v1/fleet", inject("orgKey"), { kind, apiUrl: run.clones[kind].url, adminUrl: run.adminUrl, adminToken: run.token, ...extra });

describe("fleet", () => {
  it("registers, lists, filters, updates and removes endpoints, never showing their tokens", async () => {
    const run = await spawn({ kinds: ["email"] });
    const made = await register(run, "email", { labels: { team: "growth", env: "staging" } });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ id: expect.stringMatching(/^fl_/), kind: "email", adminUrl: run.adminUrl, labels: { team: "growth" }, health: { status: "unknown" } });
    expect(made.text).not.toContain(run.token);

    const listed = (await api("GET", "/v1/fleet?kind=email&label=team=growth", inject("orgKey"))).json.data;
    expect(listed.map((e: any) => e.id)).toContain(made.json.id);
    expect((await api("GET", "/v1/fleet?kind=stripe", inject("orgKey"))).json.data.map((e: any) => e.id)).not.toContain(made.json.id);
    expect((await api("GET", "/v1/fleet?label=team=payments", inject("orgKey"))).json.data.map((e: any) => e.id)).not.toContain(made.json.id);

    const patched = await api("PATCH", `/v1/fleet/${made.json.id}`, inject("orgKey"), { labels: { team: "payments" } });
    expect(patched.json.labels).toEqual({ team: "payments" });
    // Another org sees none of it.
    expect((await api("GET", `/v1/fleet/${made.json.id}`, inject("otherKey"))).status).toBe(404);

    expect((await api("DELETE", `/v1/fleet/${made.json.id}`, inject("orgKey"))).json).toEqual({ id: made.json.id, deleted: true });
    expect((await api("GET", `/v1/fleet/${made.json.id}`, inject("orgKey"))).status).toBe(404);
  });

  it("refuses bad registrations with 422 in the API's shape", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const bad = [
      { kind: "paypal", apiUrl: run.clones.stripe.url, adminUrl: run.adminUrl, adminToken: "t" },
      { kind: "stripe", apiUrl: "https://api.stripe.com", adminUrl: run.adminUrl, adminToken: "t" },
      { kind: "stripe", apiUrl: run.clones.stripe.url, adminUrl: "http://169.254.169.254/latest", adminToken: "t" },
      { kind: "stripe", apiUrl: "ftp://x", adminUrl: run.adminUrl, adminToken: "t" },
      { kind: "stripe", apiUrl: run.clones.stripe.url, adminUrl: run.adminUrl },
    ];
    for (const body of bad) {
      const r = await api("POST", "/v1/fleet", inject("orgKey"), body);
      expect(r.status).toBe(422);
      expect(r.json.error).toMatchObject({ type: "invalid_request_error", code: expect.any(String), message: expect.any(String) });
    }
  });

  it("checks health: a working endpoint is healthy, a wrong token or a dead address is not", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const good = (await register(run, "twilio")).json;
    const wrong = (await register(run, "twilio", { adminToken: "not-the-token" })).json;
    const dead = (await api("POST", "/v1/fleet", inject("orgKey"), { kind: "twilio", apiUrl: "http://127.0.0.1:9", adminUrl: "http://127.0.0.1:9/admin", adminToken: "x" })).json;
    expect((await api("POST", `/v1/fleet/${good.id}/check`, inject("orgKey"))).json.health).toMatchObject({ status: "healthy", latencyMs: expect.any(Number), lastError: null });
    expect((await api("POST", `/v1/fleet/${wrong.id}/check`, inject("orgKey"))).json.health).toMatchObject({ status: "unhealthy", lastError: expect.stringContaining("401") });
    expect((await api("POST", `/v1/fleet/${dead.id}/check`, inject("orgKey"))).json.health).toMatchObject({ status: "unhealthy", lastError: expect.stringContaining("unreachable") });
    for (const e of [good, wrong, dead]) await api("DELETE", `/v1/fleet/${e.id}`, inject("orgKey"));
  });

  it("snapshots a world across endpoints and restores every component", async () => {
    const a = await spawn({ kinds: ["email"] });
    const b = await spawn({ kinds: ["email"] });
    const ea = (await register(a, "email")).json;
    const eb = (await register(b, "email")).json;
    const send = (run: Run, subject: string) => new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url }).emails.send({ from: "a@acme.test", to: "x@acme.test", subject, text: "x" });
    await send(a, "before-a");
    await send(b, "before-b");

    const world = await api("POST", "/v1/fleet/worlds", inject("orgKey"), { label: "release-1", endpoints: [ea.id, eb.id] });
    expect(world.status).toBe(201);
    expect(world.json).toMatchObject({ id: expect.stringMatching(/^world_/), label: "release-1" });
    expect(world.json.refs.map((r: any) => r.endpointId)).toEqual([ea.id, eb.id]);
    expect((await api("GET", "/v1/fleet/worlds", inject("orgKey"))).json.data.map((w: any) => w.id)).toContain(world.json.id);

    await send(a, "after-a");
    await send(b, "after-b");
    const restored = await api("POST", `/v1/fleet/worlds/${world.json.id}/restore`, inject("orgKey"));
    expect(restored.json).toMatchObject({ restored: true, components: [{ endpointId: ea.id, status: "restored" }, { endpointId: eb.id, status: "restored" }] });
    for (const [run, subject] of [[a, "before-a"], [b, "before-b"]] as const) {
      const list = await new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url }).emails.list();
      expect(list.data!.data.map((m) => m.subject)).toEqual([subject]);
    }
    expect((await api("POST", "/v1/fleet/worlds/world_nope/restore", inject("orgKey"))).status).toBe(404);
  });
});
