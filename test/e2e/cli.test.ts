// Every CLI command against the suite's runner: human output, stable --json, and errors that say
// what to do, with the exit codes scripts rely on.
import { describe, expect, it, inject, vi } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Resend } from "resend";
import { main } from "../../src/cli/main.ts";
import { adminPath, request } from "../../src/cli/api.ts";
import { uniqueId } from "./helpers.ts";

const env = () => ({ MOLAR_CLONES_CTRL_URL: inject("urls").control, MOLAR_CLONES_API_TOKEN: inject("orgKey") });

/** Runs the CLI in-process; answers its exit code, stdout and stderr. */
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    const code = await main(argv, env(), os.tmpdir());
    return { code, out: out.join("\n"), err: err.join("\n"), json: () => JSON.parse(out.join("\n")) };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe("molar-clones CLI", () => {
  it("spawns, lists, shows, extends and tears down runs", async () => {
    const id = uniqueId("cli");
    const spawned = await cli("runs", "spawn", "--run-id", id, "--kinds", "email,stripe", "--ttl", "10m", "--json");
    expect(spawned.code).toBe(0);
    expect(spawned.json()).toMatchObject({ runId: id, status: "active", kinds: ["email", "stripe"], token: expect.any(String) });
    expect(Date.parse(spawned.json().expiresAt) - Date.parse(spawned.json().createdAt)).toBe(600_000);

    const human = await cli("runs", "ls", "--kind", "email");
    expect(human.out).toMatch(/^RUNID\s+STATUS\s+KINDS/);
    expect(human.out).toContain(id);
    expect((await cli("runs", "ls", "--json")).json().map((r: { runId: string }) => r.runId)).toContain(id);
    expect((await cli("runs", "show", id)).out).toContain(`admin  ${inject("urls").control}/admin/v1/runs/${id}`);
    const ext = await cli("runs", "extend", id, "--ttl", "1h", "--json");
    expect(Date.parse(ext.json().expiresAt) - Date.parse(spawned.json().expiresAt)).toBe(3_600_000);
    expect((await cli("runs", "teardown", id)).out).toBe(`${id} torn down`);
    const gone = await cli("runs", "teardown", id);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/No active run .*\n {2}fix: list runs with `molar-clones runs ls`/);
  });

  it("prints and writes the env block with a fresh admin token", async () => {
    const id = uniqueId("cli");
    await cli("runs", "spawn", "--run-id", id, "--kinds", "email");
    const printed = await cli("env", id);
    expect(printed.out).toMatch(/^MOLAR_CLONE_EMAIL_URL=http/m);
    expect(printed.out).toMatch(/^MOLAR_CLONE_EMAIL_ADMIN_TOKEN=ey/m);
    expect(printed.out).toMatch(/^RESEND_API_KEY=re_/m);
    const dir = mkdtempSync(path.join(os.tmpdir(), "molar-cli-"));
    const file = path.join(dir, ".env");
    expect((await cli("env", id, "--write", file)).code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("RESEND_BASE_URL=");
    const token = /MOLAR_CLONE_EMAIL_ADMIN_TOKEN=(\S+)/.exec(readFileSync(file, "utf8"))![1];
    const res = await fetch(`${inject("urls").control}/admin/v1/runs/${id}/clock`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    rmSync(dir, { recursive: true });
  });

  it("drives the clock, chaos, snapshots, logs and inbox", async () => {
    const id = uniqueId("cli");
    const run = (await cli("runs", "spawn", "--run-id", id, "--kinds", "email", "--json")).json();
    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const sent = await resend.emails.send({ from: "a@acme.test", to: "cli@acme.test", subject: "hello cli", text: "x" });

    expect((await cli("clock", id, "freeze", "--json")).json().frozen).toBe(true);
    const adv = await cli("clock", id, "advance", "5s");
    expect(adv.out).toMatch(/^now .*; fired 1\n.*email .*delivered/);
    expect((await cli("clock", id, "set", "2099-01-01T00:00:00.000Z", "--json")).json().now).toBe("2099-01-01T00:00:00.000Z");
    expect((await cli("clock", id, "resume")).out).toMatch(/\(running\)$/);
    expect((await cli("clock", id)).out).toMatch(/offset \d+ ms$/);
    expect((await cli("clock", id, "advance", "soon")).code).toBe(1);

    const preset = (await cli("chaos", id, "preset", "email", "bounce", "--times", "1", "--json")).json();
    expect(preset).toMatchObject({ kind: "email", preset: "bounce", times: 1 });
    const rule = (await cli("chaos", id, "add", "--kind", "email", "--status", "503", "--method", "GET", "--path", "/emails", "--json")).json();
    expect((await cli("chaos", id, "ls")).out).toContain(rule.id);
    expect((await cli("chaos", id, "rm", rule.id)).out).toBe(`removed ${rule.id}`);
    expect((await cli("chaos", id, "ls", "--json")).json().map((r: { id: string }) => r.id)).toEqual([preset.id]);
    expect((await cli("chaos", id, "add", "--kind", "email", "--rate", "lots")).code).toBe(2);

    const s1 = (await cli("snapshot", id, "save", "--label", "one", "--json")).json();
    await resend.emails.send({ from: "a@acme.test", to: "later@acme.test", subject: "later", text: "x" });
    const s2 = (await cli("snapshot", id, "save", "--json")).json();
    expect((await cli("snapshot", id, "ls")).out).toContain(s1.id);
    expect((await cli("snapshot", id, "diff", s1.id, s2.id)).out).toMatch(/^\+ email\/email /m);
    const dir = mkdtempSync(path.join(os.tmpdir(), "molar-cli-"));
    const file = path.join(dir, "world.json.gz");
    expect((await cli("snapshot", id, "export", s1.id, file)).out).toMatch(/^wrote \d+ bytes/);
    const imported = (await cli("snapshot", id, "import", file, "--json")).json();
    expect(imported.sha256).toBe(s1.sha256);
    expect((await cli("snapshot", id, "restore", s1.id)).out).toBe(`restored ${s1.id}`);
    expect((await resend.emails.list()).data?.data.map((e) => e.id)).toEqual([sent.data!.id]);
    writeFileSync(file, "garbage");
    const bad = await cli("snapshot", id, "import", file);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("invalid_bundle");
    rmSync(dir, { recursive: true });

    expect((await cli("logs", id)).out).toMatch(/email\s+200 POST\s+\/emails/);
    const logs = await cli("logs", id, "--json", "--kind", "email");
    expect(logs.out.split("\n").map((l) => JSON.parse(l).path)).toContain("/emails");
    expect((await cli("inbox", id)).out).toMatch(/email cli@acme\.test {2}hello cli/);
    expect((await cli("inbox", id, "--to", "cli@acme.test", "--json")).json()).toEqual([expect.objectContaining({ to: "cli@acme.test", subject: "hello cli" })]);
  });

  it("reports progress while bundles move (the bar a terminal shows), and the bundle survives the trip", async () => {
    const id = uniqueId("cli-progress");
    await cli("runs", "spawn", "--run-id", id, "--kinds", "email");
    const t = { url: inject("urls").control, key: inject("orgKey") };
    const snap = await request<{ id: string; bytes: number }>(t, "POST", adminPath(id, "/snapshots"), { label: "p" });
    const down: [number, number | null][] = [];
    const bundle = await request<Uint8Array>(t, "GET", adminPath(id, `/snapshots/${snap.id}`), undefined, "application/gzip", (d, n) => void down.push([d, n]));
    expect(bundle.byteLength).toBe(snap.bytes);
    expect(down.at(-1)).toEqual([snap.bytes, snap.bytes]);
    const up: number[] = [];
    const imported = await request<{ id: string; sha256: string }>(t, "POST", adminPath(id, "/snapshots/import"), bundle, undefined, (d) => void up.push(d));
    expect(imported.id).toMatch(/^snap_/);
    expect(up.at(-1)).toBe(bundle.byteLength);
    await cli("runs", "teardown", id);
  });

  it("lists the golden seeds and applies one to a run", async () => {
    const ls = await cli("presets", "ls");
    expect(ls.out).toMatch(/^NAME\s+KINDS\s+DESCRIPTION/);
    expect((await cli("presets", "ls", "--json")).json().map((s: { name: string }) => s.name)).toContain("s3-invoice-pdf");
    const id = uniqueId("cli-seed");
    expect((await cli("runs", "spawn", "--run-id", id, "--kinds", "email,auth", "--seed", "password-reset")).code).toBe(0);
    const applied = await cli("presets", "apply", id, "clerk-login");
    expect(applied.out).toBe(`applied clerk-login to ${id} (2 calls)`);
    const bad = await cli("presets", "apply", id, "s3-invoice-pdf");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("needs the s3 clone");

    // An org preset: saved from the run, exported to a file, deleted, imported back.
    const name = `cli-${Date.now().toString(36)}`;
    expect((await cli("presets", "save", id, name, "--label", "from the CLI")).out).toMatch(new RegExp(`^saved ${id} as org:${name} \\(\\d+ bytes\\)`));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "molar-cli-preset-")), "p.json");
    expect((await cli("presets", "export", name, file)).code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ format: "molar-preset", name, description: "from the CLI" });
    await fetch(`${inject("urls").control}/v1/presets/${name}`, { method: "DELETE", headers: { authorization: `Bearer ${inject("orgKey")}` } });
    expect((await cli("presets", "import", file)).out).toBe(`imported as org:${name}`);
    expect((await cli("presets", "ls", "--json")).json().map((s: { name: string }) => s.name)).toContain(`org:${name}`);
    await fetch(`${inject("urls").control}/v1/presets/${name}`, { method: "DELETE", headers: { authorization: `Bearer ${inject("orgKey")}` } });
    await cli("runs", "teardown", id);
  });

  it("names the fix for usage mistakes and bad keys, with exit codes 2 and 1", async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli("--help")).out).toContain("molar-clones <command>");
    const unknown = await cli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("fix: see `molar-clones --help`");
    expect((await cli("runs", "show")).code).toBe(2);
    expect((await cli("runs", "spawn", "--ttl", "forever")).err).toContain("is not a duration");
    expect((await cli("runs", "ls", "--nope")).code).toBe(2);
    const out: string[] = [];
    const e = vi.spyOn(console, "error").mockImplementation((...a) => void out.push(a.join(" ")));
    const code = await main(["runs", "ls", "--json"], { MOLAR_CLONES_CTRL_URL: inject("urls").control, MOLAR_CLONES_API_TOKEN: "wrong-wrong-wrong" }, os.tmpdir());
    e.mockRestore();
    expect(code).toBe(1);
    expect(JSON.parse(out[0])).toEqual({ error: { message: expect.stringContaining("invalid_api_key"), fix: expect.stringContaining("MOLAR_CLONES_API_TOKEN") } });
  });

  it("runs as a program (the package's bin) with its exit code", async () => {
    const bin = path.resolve(import.meta.dirname, "../../src/cli/main.ts");
    const r = await promisify(execFile)(process.execPath, [bin, "runs", "ls", "--json"], { env: { ...process.env, ...env() } });
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
    await expect(promisify(execFile)(process.execPath, [bin, "nope"], { env: { ...process.env, ...env() } })).rejects.toMatchObject({ code: 2 });
  });

  it("follows the live log and the inbox", async () => {
    const bin = path.resolve(import.meta.dirname, "../../src/cli/main.ts");
    const id = uniqueId("cli");
    const run = (await cli("runs", "spawn", "--run-id", id, "--kinds", "email", "--json")).json();
    const follow = (what: string) => {
      const child = spawn(process.execPath, [bin, what, id, "--follow", "--json"], { env: { ...process.env, ...env() } });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      const line = (pred: (l: Record<string, unknown>) => boolean) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const check = () => {
            const hit = out.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find(pred);
            if (hit) return resolve(hit);
            if (child.exitCode !== null) return reject(new Error(`exited: ${out}`));
            setTimeout(check, 20);
          };
          check();
        });
      return { line, stop: () => child.kill() };
    };
    const logs = follow("logs");
    const inbox = follow("inbox");
    try {
      // The stream must be open before the request it should show; retry the send until it does.
      const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
      const seen = logs.line((l) => l.path === "/emails");
      for (let i = 0; i < 50 && !(await Promise.race([seen.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))])); i++) {
        await resend.emails.send({ from: "a@acme.test", to: "follow@acme.test", subject: `live ${i}`, text: "x" });
      }
      expect(await seen).toMatchObject({ kind: "email", method: "POST", status: 200 });
      expect(await inbox.line((m) => m.to === "follow@acme.test")).toMatchObject({ channel: "email" });
    } finally {
      logs.stop();
      inbox.stop();
    }
  });
});
