// The org's own API keys (issue 8 settings): made and revoked through /v1/keys, stored hashed and
// shown once; a read key may only GET; a revoked key is refused like any wrong key.
import { describe, expect, it, inject } from "vitest";
import { api } from "./helpers.ts";

describe("org API keys", () => {
  it("are made with a scope, shown once, used, and revoked", async () => {
    const made = await api("POST", "/v1/keys", inject("orgKey"), { label: "ci", scope: "admin" });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ id: expect.stringMatching(/^key_/), label: "ci", scope: "admin", key: expect.stringMatching(/^mcko_[0-9a-f]+_[A-Za-z0-9]{32}$/), revokedAt: null });
    const key = made.json.key as string;
    const listed = await api("GET", "/v1/keys", inject("orgKey"));
    expect(listed.text).not.toContain(key);
    expect(listed.json.data.find((k: any) => k.id === made.json.id)).toMatchObject({ prefix: expect.stringMatching(/^mcko_.*…/), scope: "admin" });

    // The new key is the org's: it spawns and sees the org's runs.
    const spawned = await api("POST", "/v1/runs", key, { kinds: ["email"] });
    expect(spawned.status).toBe(201);
    expect((await api("GET", `/v1/runs/${spawned.json.runId}`, inject("orgKey"))).status).toBe(200);
    expect((await api("GET", "/v1/keys", key)).json.data.find((k: any) => k.id === made.json.id).lastUsedAt).not.toBeNull();

    // A read key: GETs only, on the control API, the admin API and /metrics.
    const read = (await api("POST", "/v1/keys", inject("orgKey"), { label: "grafana", scope: "read" })).json.key as string;
    expect((await api("GET", "/v1/runs", read)).status).toBe(200);
    const refused = await api("POST", "/v1/runs", read, {});
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "insufficient_scope" });
    const adminGet = await fetch(`${spawned.json.adminUrl}/clock`, { headers: { authorization: `Bearer ${read}` } });
    expect(adminGet.status).toBe(200);
    const adminPost = await fetch(`${spawned.json.adminUrl}/clock/advance`, { method: "POST", headers: { authorization: `Bearer ${read}`, "content-type": "application/json" }, body: '{"by":"1d"}' });
    expect(adminPost.status).toBe(403);
    expect((await fetch(`${inject("urls").control}/metrics`, { headers: { authorization: `Bearer ${read}` } })).status).toBe(200);

    // Another org cannot see or revoke them; a key naming another org is not accepted.
    expect((await api("DELETE", `/v1/keys/${made.json.id}`, inject("otherKey"))).status).toBe(404);
    const forged = key.replace(/^mcko_[0-9a-f]+_/, `mcko_${Buffer.from("other").toString("hex")}_`);
    expect((await api("GET", "/v1/runs", forged)).status).toBe(401);

    const revoked = await api("DELETE", `/v1/keys/${made.json.id}`, inject("orgKey"));
    expect(revoked.json.revokedAt).not.toBeNull();
    const after = await api("GET", "/v1/runs", key);
    expect(after.status).toBe(401);
    expect(after.json.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    expect((await api("DELETE", `/v1/keys/${made.json.id}`, inject("orgKey"))).status).toBe(404);
    expect((await api("POST", "/v1/keys", inject("orgKey"), { scope: "root" })).status).toBe(422);
    await api("DELETE", `/v1/runs/${spawned.json.runId}`, inject("orgKey"));
  });
});
