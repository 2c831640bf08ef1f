// The MCP endpoint, driven by the official @modelcontextprotocol/sdk client: it lists the tools,
// spawns a run, drives it (chaos, clock, snapshots, inbox, logs) and tears it down.
import { describe, expect, it, inject } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Resend } from "resend";
import { api, uniqueId } from "./helpers.ts";
import { STATIC_TOKEN } from "./global-setup.ts";

async function connect(key: string) {
  const client = new Client({ name: "molar-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${inject("urls").control}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const json = (r: unknown) => JSON.parse((r as { content: { text: string }[] }).content[0].text);

describe("MCP", () => {
  it("lists its tools and drives a run through them", async () => {
    const client = await connect(inject("orgKey"));
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(["advance_clock", "apply_chaos_preset", "apply_seed", "list_runs", "list_seeds", "read_inbox", "read_logs", "restore_snapshot", "save_snapshot", "spawn_run", "teardown_run"]);
    expect(json(await client.callTool({ name: "list_seeds", arguments: {} })).map((s: { name: string }) => s.name)).toContain("password-reset");

    const runId = uniqueId("mcp");
    const run = json(await client.callTool({ name: "spawn_run", arguments: { runId, kinds: ["email"] } }));
    expect(run).toMatchObject({ runId, status: "active", token: expect.any(String), clones: { email: { apiKey: expect.stringMatching(/^re_/) } } });
    expect((await api("GET", "/v1/audit", inject("orgKey"))).json.data).toContainEqual(expect.objectContaining({ action: "spawn", runId, actor: "mcp" }));

    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const snap = json(await client.callTool({ name: "save_snapshot", arguments: { runId, label: "empty" } }));
    await client.callTool({ name: "apply_chaos_preset", arguments: { runId, kind: "email", preset: "bounce", times: 1 } });
    const sent = await resend.emails.send({ from: "a@acme.test", to: "agent@acme.test", subject: "from an agent's test", text: "x" });
    const fired = json(await client.callTool({ name: "advance_clock", arguments: { runId, by: "10s" } }));
    expect(fired.fired.map((f: { what: string }) => f.what)).toContain(`email ${sent.data!.id} bounced`);
    expect(json(await client.callTool({ name: "read_inbox", arguments: { runId, to: "agent@acme.test" } })).data).toHaveLength(1);
    expect(json(await client.callTool({ name: "read_logs", arguments: { runId, kind: "email" } })).lines.map((l: { path: string }) => l.path)).toContain("/emails");
    await client.callTool({ name: "restore_snapshot", arguments: { runId, snapshotId: snap.id } });
    expect((await resend.emails.list()).data?.data).toEqual([]);
    expect(json(await client.callTool({ name: "list_runs", arguments: { status: "active" } })).map((r: { runId: string }) => r.runId)).toContain(runId);
    // A seed needing a clone the run lacks is the tool's error, not a crash.
    expect((await client.callTool({ name: "apply_seed", arguments: { runId, seed: "s3-invoice-pdf" } })).isError).toBe(true);

    const bad = await client.callTool({ name: "advance_clock", arguments: { runId, by: "forever" } });
    expect(bad.isError).toBe(true);
    await client.callTool({ name: "teardown_run", arguments: { runId } });
    expect((await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.status).toBe("torn_down");
    await client.close();
  });

  it("refuses a wrong key, and keeps orgs apart", async () => {
    await expect(connect("not-a-key-not-a-key")).rejects.toThrow();
    const mine = await connect(inject("orgKey"));
    const runId = uniqueId("mcp");
    await mine.callTool({ name: "spawn_run", arguments: { runId, kinds: ["email"] } });
    const other = await connect(inject("otherKey"));
    const r = await other.callTool({ name: "advance_clock", arguments: { runId, by: "1d" } });
    expect(r.isError).toBe(true);
    expect((r as { content: { text: string }[] }).content[0].text).toContain("No active run");
    await mine.close();
    await other.close();
  });

  it("takes a run token for that run alone, and the local MOLAR_STATIC_TOKEN", async () => {
    const mine = await connect(inject("orgKey"));
    const a = json(await mine.callTool({ name: "spawn_run", arguments: { runId: uniqueId("mcp-a"), kinds: ["email"] } }));
    const b = json(await mine.callTool({ name: "spawn_run", arguments: { runId: uniqueId("mcp-b"), kinds: ["email"] } }));
    const scoped = await connect(a.token);
    expect(json(await scoped.callTool({ name: "advance_clock", arguments: { runId: a.runId, by: "1h" } })).now).toEqual(expect.any(String));
    const elsewhere = await scoped.callTool({ name: "advance_clock", arguments: { runId: b.runId, by: "1h" } });
    expect(elsewhere.isError).toBe(true);
    expect((elsewhere as { content: { text: string }[] }).content[0].text).toContain(`reaches run ${a.runId} only`);
    expect((await scoped.callTool({ name: "spawn_run", arguments: {} })).isError).toBe(true);
    expect(json(await scoped.callTool({ name: "list_runs", arguments: {} })).map((r: { runId: string }) => r.runId)).toEqual([a.runId]);
    const local = await connect(STATIC_TOKEN);
    expect(json(await local.callTool({ name: "list_runs", arguments: { status: "active" } })).map((r: { runId: string }) => r.runId)).toContain(b.runId);
    for (const c of [mine, scoped, local]) await c.close();
  });
});
