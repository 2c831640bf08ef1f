// `molar-clones`: the command line over the control and admin APIs. Human output by default,
// `--json` for scripts (stable: the API's own objects). Exit codes: 0 ok, 1 the service said no
// (the message names the fix), 2 a usage mistake.
import { parseArgs } from "node:util";
import { readFile, writeFile } from "node:fs/promises";
import { CliError, adminPath, progressBar, request, target, type Target } from "./api.ts";

const USAGE = `molar-clones <command>

  start [--in-memory]                        run the clones locally (same as npm start)
  serve [--kind K] [--in-memory]             the on-prem engine: TLS from files, admin on its own
                                             listener; --kind runs one clone and its admin API
  runs ls [--status S] [--kind K]            list runs
  runs spawn [--run-id ID] [--kinds a,b] [--seed S] [--ttl 1h]
  runs show <runId>
  runs extend <runId> --ttl 30m
  runs teardown <runId>
  env <runId> [--write FILE]                 the run's env block (with a fresh admin token)
  clock <runId> [show|advance 30d|set ISO|freeze|resume]
  chaos <runId> ls | preset <kind> <name> [--rate R] [--times N] | rm <ruleId>
  chaos <runId> add --kind K [--status N] [--latency MS] [--method M] [--path GLOB] [--rate R] [--times N]
  snapshot <runId> ls | save [--label L] | restore <id> | diff <a> <b> | export <id> <file> | import <file>
  logs <runId> [--kind K] [--status N] [--follow]
  inbox <runId> [--to ADDR] [--channel email|sms] [--follow]
  presets ls | apply <runId> <name>          the golden seeds; spawn with --seed NAME or apply later
  presets save <runId> <name> [--label D] | export <name> <file> | import <file>   org presets (seed org:NAME)
  proxy [--strict]                           route proxy for apps that cannot set a base URL
                                             (PROXY_LISTEN_ADDR, default 127.0.0.1:8443; PROXY_STRICT=1)

Options: --json (machine-readable output). Env: MOLAR_CLONES_CTRL_URL (default http://127.0.0.1:8000),
MOLAR_CLONES_API_TOKEN (default: .molar/dev-key written by \`start\`).`;

type Flags = Record<string, string | boolean | undefined>;
interface Ctx {
  t: () => Target;
  flags: Flags;
  json: boolean;
  out: (human: string, data: unknown) => void;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
function seconds(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === "string" ? /^(\d+)([smhd]?)$/.exec(v) : null;
  if (!m) throw new CliError(`--${name} ${String(v)} is not a duration`, `use a number of seconds or 90s, 30m, 2h, 1d`, 2);
  return Number(m[1]) * (UNITS[m[2]] ?? 1);
}

function need(args: string[], i: number, what: string): string {
  const v = args[i];
  if (!v) throw new CliError(`missing ${what}`, `see \`molar-clones --help\``, 2);
  return v;
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? "")));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

interface RunJson {
  runId: string;
  status: string;
  kinds: string[];
  seed: string;
  createdAt: string;
  expiresAt: string;
  env: Record<string, string>;
  adminUrl: string;
  clones: Record<string, Record<string, string>>;
}

const runLine = (r: RunJson) => ({ runId: r.runId, status: r.status, kinds: r.kinds.join(","), seed: r.seed, expiresAt: r.expiresAt });

async function runs(c: Ctx, args: string[]) {
  const sub = args[0] ?? "ls";
  if (sub === "ls") {
    const q = new URLSearchParams();
    if (typeof c.flags.status === "string") q.set("status", c.flags.status);
    if (typeof c.flags.kind === "string") q.set("kind", c.flags.kind);
    const r = await request<{ data: RunJson[] }>(c.t(), "GET", `/v1/runs${q.size ? `?${q}` : ""}`);
    return c.out(table(r.data.map(runLine), ["runId", "status", "kinds", "seed", "expiresAt"]), r.data);
  }
  if (sub === "spawn") {
    const body: Record<string, unknown> = {};
    if (typeof c.flags["run-id"] === "string") body.runId = c.flags["run-id"];
    if (typeof c.flags.kinds === "string") body.kinds = c.flags.kinds.split(",").map((k) => k.trim());
    if (typeof c.flags.seed === "string") body.seed = c.flags.seed;
    const ttl = seconds(c.flags.ttl, "ttl");
    if (ttl !== undefined) body.ttlSeconds = ttl;
    const r = await request<RunJson & { token: string }>(c.t(), "POST", "/v1/runs", body);
    const human = [`spawned ${r.runId} (${r.kinds.join(", ")}), expires ${r.expiresAt}`, `admin  ${r.adminUrl}`, ...Object.entries(r.clones).map(([k, v]) => `${k.padEnd(6)} ${v.url}`)].join("\n");
    return c.out(human, r);
  }
  const runId = need(args, 1, "a run id");
  if (sub === "show") {
    const r = await request<RunJson>(c.t(), "GET", `/v1/runs/${encodeURIComponent(runId)}`);
    return c.out([table([runLine(r)], ["runId", "status", "kinds", "seed", "expiresAt"]), `admin  ${r.adminUrl}`, ...Object.entries(r.clones).map(([k, v]) => `${k.padEnd(6)} ${v.url}`)].join("\n"), r);
  }
  if (sub === "extend") {
    const ttl = seconds(c.flags.ttl, "ttl");
    if (ttl === undefined) throw new CliError("missing --ttl", "e.g. `molar-clones runs extend ci-42 --ttl 30m`", 2);
    const r = await request<RunJson>(c.t(), "POST", `/v1/runs/${encodeURIComponent(runId)}/extend`, { ttlSeconds: ttl });
    return c.out(`${r.runId} now expires ${r.expiresAt}`, r);
  }
  if (sub === "teardown") {
    const r = await request<RunJson>(c.t(), "DELETE", `/v1/runs/${encodeURIComponent(runId)}`);
    return c.out(`${r.runId} torn down`, r);
  }
  throw new CliError(`unknown command runs ${sub}`, "use runs ls|spawn|show|extend|teardown", 2);
}

async function envCmd(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const r = await request<RunJson>(c.t(), "GET", `/v1/runs/${encodeURIComponent(runId)}`);
  const { token } = await request<{ token: string }>(c.t(), "POST", `/v1/runs/${encodeURIComponent(runId)}/token`);
  const env = { ...r.env };
  for (const k of Object.keys(env)) if (k.endsWith("_ADMIN_URL")) env[k.replace(/_URL$/, "_TOKEN")] = token;
  const text = Object.entries(env).map(([k, v]) => `${k}=${/[\s#"'=]/.test(v) ? JSON.stringify(v) : v}`).join("\n") + "\n";
  if (typeof c.flags.write === "string") {
    await writeFile(c.flags.write, text, { mode: 0o600 });
    return c.out(`wrote ${Object.keys(env).length} variables to ${c.flags.write}`, { written: c.flags.write, env });
  }
  return c.out(text.trimEnd(), env);
}

async function clock(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const sub = args[1] ?? "show";
  const p = (rest: string) => adminPath(runId, rest);
  if (sub === "show") {
    const r = await request<{ now: string; frozen: boolean; offsetMs: number }>(c.t(), "GET", p("/clock"));
    return c.out(`${r.now}${r.frozen ? " (frozen)" : ""}, offset ${r.offsetMs} ms`, r);
  }
  if (sub === "advance" || sub === "set") {
    const v = need(args, 2, sub === "advance" ? "a duration (e.g. 30d)" : "an ISO instant");
    const r = await request<{ now: string; fired: { at: string; kind: string; what: string }[] }>(c.t(), "POST", p("/clock/advance"), sub === "advance" ? { by: v } : { to: v });
    return c.out([`now ${r.now}; fired ${r.fired.length}`, ...r.fired.map((f) => `  ${f.at}  ${f.kind.padEnd(6)} ${f.what}`)].join("\n"), r);
  }
  if (sub === "freeze" || sub === "resume") {
    const r = await request<{ now: string; frozen: boolean }>(c.t(), "POST", p(`/clock/${sub}`));
    return c.out(`${r.now}${r.frozen ? " (frozen)" : " (running)"}`, r);
  }
  throw new CliError(`unknown command clock ${sub}`, "use clock <runId> show|advance 30d|set ISO|freeze|resume", 2);
}

function num(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n)) throw new CliError(`--${name} ${String(v)} is not a number`, `give --${name} a number`, 2);
  return n;
}

async function presets(c: Ctx, args: string[]) {
  const sub = args[0] ?? "ls";
  if (sub === "ls") {
    const r = await request<{ data: { name: string; kinds: string[]; description: string }[] }>(c.t(), "GET", "/v1/seeds");
    return c.out(table(r.data.map((s) => ({ ...s, kinds: s.kinds.join(",") })), ["name", "kinds", "description"]), r.data);
  }
  if (sub === "apply") {
    const runId = need(args, 1, "a run id");
    const name = need(args, 2, "a seed name (see `molar-clones presets ls`)");
    const r = await request<{ seed: string; calls: number }>(c.t(), "POST", adminPath(runId, `/seeds/${encodeURIComponent(name)}`));
    return c.out(`applied ${r.seed} to ${runId} (${r.calls} calls)`, r);
  }
  if (sub === "save") {
    const runId = need(args, 1, "a run id");
    const name = need(args, 2, "a name for the preset");
    const r = await request<{ name: string; seed: string; bytes: number }>(c.t(), "POST", "/v1/presets", { runId, name, description: typeof c.flags.label === "string" ? c.flags.label : undefined });
    return c.out(`saved ${runId} as ${r.seed} (${r.bytes} bytes); spawn it with --seed ${r.seed}`, r);
  }
  if (sub === "export") {
    const name = need(args, 1, "a preset name");
    const file = need(args, 2, "a file to write");
    const doc = await request<Record<string, unknown>>(c.t(), "GET", `/v1/presets/${encodeURIComponent(name.replace(/^org:/, ""))}/export`);
    await writeFile(file, JSON.stringify(doc));
    return c.out(`wrote preset ${name} to ${file}`, { file, name });
  }
  if (sub === "import") {
    const file = need(args, 1, "a preset file");
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(file, "utf8"));
    } catch {
      throw new CliError(`cannot read ${file} as a preset`, "give a file written by `presets export`", 2);
    }
    const r = await request<{ seed: string }>(c.t(), "POST", "/v1/presets/import", doc);
    return c.out(`imported as ${r.seed}`, r);
  }
  throw new CliError(`unknown presets command ${sub}`, "use presets ls | apply <runId> <name> | save <runId> <name> | export <name> <file> | import <file>", 2);
}

async function chaos(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const sub = args[1] ?? "ls";
  const p = (rest: string) => adminPath(runId, rest);
  if (sub === "ls") {
    const r = await request<{ data: Record<string, unknown>[] }>(c.t(), "GET", p("/chaos/rules"));
    return c.out(table(r.data, ["id", "kind", "preset", "method", "path", "status", "rate", "times", "fired"]), r.data);
  }
  if (sub === "preset") {
    const kind = need(args, 2, "a clone kind");
    const name = need(args, 3, "a preset name");
    const r = await request<Record<string, unknown>>(c.t(), "POST", p(`/chaos/presets/${kind}/${name}`), { rate: num(c.flags.rate, "rate"), times: num(c.flags.times, "times") });
    return c.out(`added ${r.id} (${kind} ${name})`, r);
  }
  if (sub === "add") {
    const body = {
      kind: c.flags.kind, status: num(c.flags.status, "status"), latencyMs: num(c.flags.latency, "latency"), method: c.flags.method,
      path: c.flags.path, rate: num(c.flags.rate, "rate"), times: num(c.flags.times, "times"),
    };
    const r = await request<Record<string, unknown>>(c.t(), "POST", p("/chaos/rules"), body);
    return c.out(`added ${r.id}`, r);
  }
  if (sub === "rm") {
    const id = need(args, 2, "a rule id");
    const r = await request<Record<string, unknown>>(c.t(), "DELETE", p(`/chaos/rules/${encodeURIComponent(id)}`));
    return c.out(`removed ${id}`, r);
  }
  throw new CliError(`unknown command chaos ${sub}`, "use chaos <runId> ls|preset|add|rm", 2);
}

async function snapshot(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const sub = args[1] ?? "ls";
  const p = (rest: string) => adminPath(runId, rest);
  type Snap = { id: string; label: string | null; createdAt: string; bytes: number; sha256: string };
  if (sub === "ls") {
    const r = await request<{ data: Snap[] }>(c.t(), "GET", p("/snapshots"));
    return c.out(table(r.data, ["id", "label", "createdAt", "bytes"]), r.data);
  }
  if (sub === "save") {
    const r = await request<Snap>(c.t(), "POST", p("/snapshots"), typeof c.flags.label === "string" ? { label: c.flags.label } : {});
    return c.out(`saved ${r.id} (${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}…)`, r);
  }
  if (sub === "restore") {
    const id = need(args, 2, "a snapshot id");
    const r = await request<Record<string, unknown>>(c.t(), "POST", p(`/snapshots/${encodeURIComponent(id)}/restore`));
    return c.out(`restored ${id}`, r);
  }
  if (sub === "diff") {
    const a = need(args, 2, "the first snapshot id");
    const b = need(args, 3, "the second snapshot id");
    const r = await request<Record<"added" | "removed" | "changed", { kind: string; type: string; id: string }[]>>(c.t(), "GET", p(`/snapshots/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`));
    const lines = (["added", "removed", "changed"] as const).flatMap((k) => r[k].map((e) => `${k === "added" ? "+" : k === "removed" ? "-" : "~"} ${e.kind}/${e.type} ${e.id}`));
    return c.out(lines.length ? lines.join("\n") : "(no difference)", r);
  }
  if (sub === "export") {
    const id = need(args, 2, "a snapshot id");
    const file = need(args, 3, "a file to write");
    const bytes = await request<Uint8Array>(c.t(), "GET", p(`/snapshots/${encodeURIComponent(id)}`), undefined, "application/gzip", c.json ? undefined : progressBar("exporting"));
    await writeFile(file, bytes);
    return c.out(`wrote ${bytes.byteLength} bytes to ${file}`, { file, bytes: bytes.byteLength });
  }
  if (sub === "import") {
    const file = need(args, 2, "a bundle file");
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch {
      throw new CliError(`cannot read ${file}`, "give the path of a bundle written by `snapshot export`", 2);
    }
    const r = await request<Snap>(c.t(), "POST", p("/snapshots/import"), bytes, undefined, c.json ? undefined : progressBar("importing"));
    return c.out(`imported as ${r.id}`, r);
  }
  throw new CliError(`unknown command snapshot ${sub}`, "use snapshot <runId> ls|save|restore|diff|export|import", 2);
}

const COLORS: Record<string, string> = { "2": "\x1b[32m", "3": "\x1b[36m", "4": "\x1b[33m", "5": "\x1b[31m" };
function logLine(l: { at: string; kind: string; method: string; path: string; status: number; durationMs: number; errorInjected: boolean }, color: boolean) {
  const s = String(l.status);
  const st = color ? `${COLORS[s[0]] ?? ""}${s}\x1b[0m` : s;
  return `${l.at}  ${l.kind.padEnd(6)} ${st} ${l.method.padEnd(6)} ${l.path}  ${l.durationMs}ms${l.errorInjected ? "  [chaos]" : ""}`;
}

async function logs(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const q = new URLSearchParams();
  if (typeof c.flags.kind === "string") q.set("kind", c.flags.kind);
  if (typeof c.flags.status === "string") q.set("status", c.flags.status);
  const color = !c.json && process.stdout.isTTY;
  if (c.flags.follow) {
    const t = c.t();
    const res = await fetch(`${t.url}${adminPath(runId, `/logs/stream${q.size ? `?${q}` : ""}`)}`, { headers: { authorization: `Bearer ${t.key}`, "x-molar-actor": "cli" } });
    if (!res.ok || !res.body) throw new CliError(`cannot follow the log (HTTP ${res.status})`, "check the run id with `molar-clones runs ls`");
    let buf = "";
    for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!ev.startsWith("data: ")) continue;
        const l = JSON.parse(ev.slice(6));
        console.log(c.json ? JSON.stringify(l) : logLine(l, color));
      }
    }
    return;
  }
  const lines = await request<Parameters<typeof logLine>[0][]>(c.t(), "GET", adminPath(runId, `/logs${q.size ? `?${q}` : ""}`));
  if (c.json) return console.log(lines.map((l) => JSON.stringify(l)).join("\n"));
  return console.log(lines.length ? lines.map((l) => logLine(l, color)).join("\n") : "(no requests yet)");
}

async function inbox(c: Ctx, args: string[]) {
  const runId = need(args, 0, "a run id");
  const q = new URLSearchParams();
  if (typeof c.flags.to === "string") q.set("to", c.flags.to);
  if (typeof c.flags.channel === "string") q.set("channel", c.flags.channel);
  type Msg = { id: string; channel: string; to: string; from: string; subject?: string; text?: string; code?: string; createdAt: string };
  const fetchAll = () => request<{ data: Msg[] }>(c.t(), "GET", adminPath(runId, `/inbox${q.size ? `?${q}` : ""}`)).then((r) => r.data);
  const show = (m: Msg) => (c.json ? JSON.stringify(m) : `${m.createdAt}  ${m.channel.padEnd(5)} ${m.to}  ${m.subject ?? (m.text ?? "").slice(0, 60)}${m.code ? `  code ${m.code}` : ""}`);
  const first = await fetchAll();
  if (!c.flags.follow) {
    if (c.json) return console.log(JSON.stringify(first));
    return console.log(first.length ? first.map(show).join("\n") : "(empty)");
  }
  const seen = new Set<string>();
  for (const m of first) {
    seen.add(m.id);
    console.log(show(m));
  }
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    for (const m of await fetchAll()) if (!seen.has(m.id)) (seen.add(m.id), console.log(show(m)));
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" }, help: { type: "boolean", short: "h" }, follow: { type: "boolean", short: "f" }, "in-memory": { type: "boolean" },
        status: { type: "string" }, kind: { type: "string" }, kinds: { type: "string" }, "run-id": { type: "string" }, seed: { type: "string" },
        ttl: { type: "string" }, write: { type: "string" }, rate: { type: "string" }, times: { type: "string" }, latency: { type: "string" },
        strict: { type: "boolean" }, method: { type: "string" }, path: { type: "string" }, label: { type: "string" }, to: { type: "string" }, channel: { type: "string" },
      },
    });
  } catch (e) {
    console.error(`molar-clones: ${(e as Error).message}\n  fix: see \`molar-clones --help\``);
    return 2;
  }
  const [cmd, ...args] = parsed.positionals;
  const flags = parsed.values as Flags;
  if (!cmd || flags.help) {
    console.log(USAGE);
    return cmd || flags.help ? 0 : 2;
  }
  const json = flags.json === true;
  const c: Ctx = { t: () => target(env, cwd), flags, json, out: (human, data) => console.log(json ? JSON.stringify(data, null, 2) : human) };
  try {
    switch (cmd) {
      case "start": {
        process.argv = [process.argv[0], "start", ...(flags["in-memory"] ? ["--in-memory"] : [])];
        await import("../runner/start.ts");
        return 0;
      }
      case "serve":
        // Loaded on use: the engines pull in Miniflare and the certificate code, which other commands never need.
        await (await import("./engines.ts")).serveCommand(env, cwd, flags);
        return 0;
      case "runs":
        await runs(c, args);
        return 0;
      case "env":
        await envCmd(c, args);
        return 0;
      case "clock":
        await clock(c, args);
        return 0;
      case "chaos":
        await chaos(c, args);
        return 0;
      case "snapshot":
        await snapshot(c, args);
        return 0;
      case "logs":
        await logs(c, args);
        return 0;
      case "inbox":
        await inbox(c, args);
        return 0;
      case "presets":
        await presets(c, args);
        return 0;
      case "proxy":
        await (await import("./engines.ts")).proxyCommand(env, cwd, flags.strict === true, json);
        return 0;
      default:
        throw new CliError(`unknown command ${cmd}`, "see `molar-clones --help`", 2);
    }
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (json) console.error(JSON.stringify({ error: { message: e.message, fix: e.fix } }));
    else console.error(`molar-clones: ${e.message}\n  fix: ${e.fix}`);
    return e.exitCode;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
