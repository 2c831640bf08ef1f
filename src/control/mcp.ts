// `/mcp` on the control origin: the Model Context Protocol over streamable HTTP (stateless), so
// coding agents can spawn and drive test worlds. Authorized by the org key; every tool acts in
// that org only, through the same control objects and admin API as everything else.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { GOLDEN_SEEDS } from "./seeds.ts";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { KINDS, type Quotas } from "../kernel/types.ts";
import { mintRunToken } from "./tokens.ts";
import { runJson } from "./run-json.ts";
import { urlsOf } from "./urls.ts";

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }] });
const failure = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });

function server(env: AppEnv, org: { org: string; quotas: Quotas }, requestUrl: string, onlyRun: string | null): McpServer {
  const mcp = new McpServer({ name: "molar-clones", version: "1.0.0" });
  const control = env.CONTROL.get(env.CONTROL.idFromName(org.org));
  const urls = urlsOf(env, requestUrl);

  /** A run's admin API, as the HTTP admin API would answer it. */
  const admin = async (runId: string, method: string, path: string, body?: unknown) => {
    if (onlyRun !== null && runId !== onlyRun) return { ok: false, status: 403, json: { error: { message: `This token reaches run ${onlyRun} only.` } } as Record<string, unknown> };
    const worldId = await control.resolve(runId);
    if (!worldId) return { ok: false, status: 404, json: { error: { message: `No active run ${runId}.` } } as Record<string, unknown> };
    const req = new Request(`http://admin${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const res = await env.RUN.get(env.RUN.idFromName(worldId)).admin(req, path.split("?")[0]);
    const raw = await res.text();
    const json = (res.headers.get("content-type") ?? "").includes("ndjson")
      ? { lines: raw.split("\n").filter(Boolean).map((l) => JSON.parse(l)) }
      : (JSON.parse(raw) as Record<string, unknown>);
    return { ok: res.ok, status: res.status, json };
  };
  const answer = (r: Awaited<ReturnType<typeof admin>>) =>
    r.ok ? text(r.json) : failure(String((r.json.error as { message?: string } | undefined)?.message ?? `HTTP ${r.status}`));

  mcp.registerTool(
    "spawn_run",
    {
      description: "Spawn a fresh test world (a run) with vendor clones; answers its URLs, credentials, env block and admin token.",
      inputSchema: { runId: z.string().optional(), kinds: z.array(z.enum(KINDS)).optional(), ttlSeconds: z.number().int().positive().optional(), seed: z.string().optional() },
    },
    async (args) => {
      if (onlyRun !== null) return failure("A run token cannot spawn runs: use an org key with the admin scope.");
      const r = await control.spawn(args, { org: org.org, actor: "mcp", quotas: org.quotas, urls });
      if ("error" in r) return failure(r.error.message);
      return text(runJson(r, urls, await mintRunToken(env, { org: org.org, runId: r.runId, worldId: r.worldId })));
    },
  );
  mcp.registerTool("list_seeds", { description: "The golden seeds a run can start from (spawn_run's seed) or have applied later (apply_seed).", inputSchema: {} }, async () =>
    text(Object.entries(GOLDEN_SEEDS).map(([name, s]) => ({ name, kinds: s.kinds, description: s.description }))),
  );
  mcp.registerTool(
    "apply_seed",
    { description: "Apply a golden seed to an existing run: its vendor calls are made with the run's own keys.", inputSchema: { runId: z.string(), seed: z.string() } },
    async ({ runId, seed }) => answer(await admin(runId, "POST", `/seeds/${encodeURIComponent(seed)}`)),
  );
  mcp.registerTool("list_runs", { description: "List the org's runs, newest first.", inputSchema: { status: z.string().optional() } }, async ({ status }) =>
    text((await control.list({ status })).filter((r) => onlyRun === null || r.runId === onlyRun).map((r) => ({ runId: r.runId, status: r.status, kinds: r.kinds, expiresAt: new Date(r.expiresAt).toISOString() }))),
  );
  mcp.registerTool("teardown_run", { description: "Tear a run down: its world is gone, its credentials answer 401.", inputSchema: { runId: z.string() } }, async ({ runId }) => {
    if (onlyRun !== null && runId !== onlyRun) return failure(`This token reaches run ${onlyRun} only.`);
    const r = await control.teardown(runId, "mcp");
    return "error" in r ? failure(r.error.message) : text(`${runId} torn down`);
  });
  mcp.registerTool(
    "advance_clock",
    { description: "Advance a run's virtual clock (e.g. 30d, 1h30m); everything that falls due fires in order.", inputSchema: { runId: z.string(), by: z.string() } },
    async ({ runId, by }) => answer(await admin(runId, "POST", "/clock/advance", { by })),
  );
  mcp.registerTool(
    "apply_chaos_preset",
    { description: "Add a chaos preset to a run (e.g. email bounce, stripe card_declined).", inputSchema: { runId: z.string(), kind: z.enum(KINDS), preset: z.string(), times: z.number().int().positive().optional() } },
    async ({ runId, kind, preset, times }) => answer(await admin(runId, "POST", `/chaos/presets/${kind}/${encodeURIComponent(preset)}`, times ? { times } : {})),
  );
  mcp.registerTool("save_snapshot", { description: "Snapshot a run's world.", inputSchema: { runId: z.string(), label: z.string().optional() } }, async ({ runId, label }) =>
    answer(await admin(runId, "POST", "/snapshots", label ? { label } : {})),
  );
  mcp.registerTool("restore_snapshot", { description: "Restore a run's world to a snapshot, atomically.", inputSchema: { runId: z.string(), snapshotId: z.string() } }, async ({ runId, snapshotId }) =>
    answer(await admin(runId, "POST", `/snapshots/${encodeURIComponent(snapshotId)}/restore`)),
  );
  mcp.registerTool(
    "read_inbox",
    { description: "Emails and SMS the run's clones sent, with OTP codes.", inputSchema: { runId: z.string(), to: z.string().optional(), channel: z.enum(["email", "sms"]).optional() } },
    async ({ runId, to, channel }) => {
      const q = new URLSearchParams();
      if (to) q.set("to", to);
      if (channel) q.set("channel", channel);
      return answer(await admin(runId, "GET", `/inbox${q.size ? `?${q}` : ""}`));
    },
  );
  mcp.registerTool("read_logs", { description: "The run's request log, newest last.", inputSchema: { runId: z.string(), kind: z.enum(KINDS).optional() } }, async ({ runId, kind }) =>
    answer(await admin(runId, "GET", `/logs${kind ? `?kind=${kind}` : ""}`)),
  );
  return mcp;
}

/** One MCP request: a stateless server per request, as the transport's stateless mode wants. */
/** `onlyRun`: the caller holds a run token, so every tool acts on that run alone. */
export async function handleMcp(req: Request, env: AppEnv, org: { org: string; quotas: Quotas }, onlyRun: string | null = null): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  const mcp = server(env, org, req.url, onlyRun);
  await mcp.connect(transport);
  try {
    return await transport.handleRequest(req);
  } finally {
    void mcp.close();
  }
}
