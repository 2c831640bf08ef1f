// `npm start` as a user meets it: the printed key works with the contract's POST /v1/runs, state
// survives a restart, and bad configuration fails with one line naming the setting.
import { describe, expect, it } from "vitest";
import { execFileSync, spawn as spawnProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

function hasCurl(): boolean {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => resolve(s)); })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function addrEnv(ports: number[]) {
  const [c, ...v] = ports;
  return {
    MOLAR_CLONES_ADDR: `127.0.0.1:${c}`,
    MOLAR_CLONE_STRIPE_ADDR: `127.0.0.1:${v[0]}`,
    MOLAR_CLONE_TWILIO_ADDR: `127.0.0.1:${v[1]}`,
    MOLAR_CLONE_EMAIL_ADDR: `127.0.0.1:${v[2]}`,
    MOLAR_CLONE_AUTH_ADDR: `127.0.0.1:${v[3]}`,
    MOLAR_CLONE_S3_ADDR: `127.0.0.1:${v[4]}`,
  };
}

/** Runs `node src/runner/start.ts` (what `npm start` runs) until it prints its key or exits. */
function start(env: Record<string, string>, args: string[] = []) {
  const child = spawnProcess(process.execPath, ["src/runner/start.ts", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const ready = new Promise<{ key: string; out: string }>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /api key\s+(\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve({ key: m[1], out });
      }
    }, 20);
    child.once("exit", (code) => {
      clearInterval(timer);
      reject(Object.assign(new Error(`exited ${code}: ${err}`), { code, err }));
    });
  });
  const stop = () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once("exit", () => r()), child.kill("SIGTERM"))));
  return { child, ready, stop, stderr: () => err };
}

async function exitOf(p: ReturnType<typeof start>): Promise<{ code: number | null; err: string }> {
  return p.ready.then(
    async () => {
      await p.stop();
      throw new Error("expected start-up to fail");
    },
    (e: { code: number | null; err: string }) => ({ code: e.code, err: e.err }),
  );
}

describe("npm start", () => {
  it("prints URLs and a dev key that spawns a run with the contract's POST /v1/runs; state survives a restart", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "molar-start-"));
    const env = { ...addrEnv(await freePorts(6)), MOLAR_CLONES_STATE_DIR: dir };
    let s: ReturnType<typeof start> | null = start(env);
    try {
      const { key, out } = await s.ready;
      expect(out).toContain(env.MOLAR_CLONES_ADDR);
      expect(out).toContain(env.MOLAR_CLONE_EMAIL_ADDR);
      expect(key).toMatch(/^mck_dev_/);
      const control = `http://${env.MOLAR_CLONES_ADDR}`;
      expect((await fetch(`${control}/healthz`)).status).toBe(200);
      // The README's own command, with curl where the machine has it.
      const created = hasCurl()
        ? execFileSync("curl", ["-s", "-w", "\n%{http_code}", "-X", "POST", "-H", `Authorization: Bearer ${key}`, `${control}/v1/runs`, "-d", '{"runId":"kept"}'], { encoding: "utf8" })
        : await fetch(`${control}/v1/runs`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: '{"runId":"kept"}' }).then(async (r) => `${await r.text()}\n${r.status}`);
      const [body, code] = created.trim().split(/\n(?=\d{3}$)/);
      expect(code).toBe("201");
      const run = JSON.parse(body) as { clones: { email: { url: string; apiKey: string } } };
      const sent = await fetch(`${run.clones.email.url}/emails`, {
        method: "POST",
        headers: { authorization: `Bearer ${run.clones.email.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ from: "a@acme.test", to: "b@acme.test", subject: "kept", text: "x" }),
      });
      const { id } = (await sent.json()) as { id: string };
      await s.stop();

      s = start(env);
      const again = await s.ready;
      expect(again.key).toBe(key);
      const got = await fetch(`${run.clones.email.url}/emails/${id}`, { headers: { authorization: `Bearer ${run.clones.email.apiKey}` } });
      expect(got.status).toBe(200);
      expect(((await got.json()) as { subject: string }).subject).toBe("kept");
    } finally {
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails with one clear line and a non-zero exit on bad configuration", async () => {
    const ports = await freePorts(6);
    const bad = await exitOf(start({ ...addrEnv(ports), MOLAR_CLONES_ADDR: "not-an-address" }, ["--in-memory"]));
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split("\n")).toEqual([expect.stringContaining("MOLAR_CLONES_ADDR")]);

    const quota = await exitOf(start({ ...addrEnv(ports), MOLAR_QUOTA_CONCURRENT_RUNS: "lots" }, ["--in-memory"]));
    expect(quota.code).toBe(2);
    expect(quota.err).toContain("MOLAR_QUOTA_CONCURRENT_RUNS");

    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(ports[3], "127.0.0.1", () => r()));
    try {
      const busy = await exitOf(start(addrEnv(ports), ["--in-memory"]));
      expect(busy.code).toBe(2);
      expect(busy.err.trim().split("\n")).toEqual([expect.stringMatching(/MOLAR_CLONE_EMAIL_ADDR: 127\.0\.0\.1:\d+ is already in use/)]);
    } finally {
      blocker.close();
    }

    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "molar-start-")), "a-file");
    (await import("node:fs")).writeFileSync(file, "x");
    const unreadable = await exitOf(start({ ...addrEnv(ports), MOLAR_CLONES_STATE_DIR: file }));
    expect(unreadable.code).toBe(2);
    expect(unreadable.err).toContain("MOLAR_CLONES_STATE_DIR");
  });
});
