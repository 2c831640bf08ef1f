// Crash safety: the persisted runner is killed with SIGKILL in the middle of a write load and
// started again on the same state. Every acknowledged write is there, no world is torn (each
// email has its inbox row: they were one transaction), stored snapshots still verify, and webhook
// deliveries that were pending resume.
import { describe, expect, it } from "vitest";
import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Resend } from "resend";

const ROOT = path.resolve(import.meta.dirname, "../..");
const KEY = "crash-test-org-key-0123456789";

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((r) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => r(s)); })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function start(env: Record<string, string>): Promise<ChildProcess> {
  // Its own process group, so a kill takes workerd down with it, as a crash of the host would.
  const child = spawnProcess(process.execPath, ["src/runner/start.ts"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("api key")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`runner exited ${code}: ${out}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    /* already gone */
  }
  await exited;
  // workerd holds the ports until it is reaped.
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("crash safety", () => {
  it("keeps every acknowledged write through a SIGKILL mid-load, and resumes pending webhooks", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "molar-crash-"));
    const [c, st, tw, em, au, s3, hookPort] = await freePorts(7);
    const env = {
      MOLAR_CLONES_ADDR: `127.0.0.1:${c}`, MOLAR_CLONE_STRIPE_ADDR: `127.0.0.1:${st}`, MOLAR_CLONE_TWILIO_ADDR: `127.0.0.1:${tw}`,
      MOLAR_CLONE_EMAIL_ADDR: `127.0.0.1:${em}`, MOLAR_CLONE_AUTH_ADDR: `127.0.0.1:${au}`, MOLAR_CLONE_S3_ADDR: `127.0.0.1:${s3}`,
      MOLAR_CLONES_STATE_DIR: dir, MOLAR_CLONES_API_TOKEN: KEY,
    };
    const control = `http://127.0.0.1:${c}`;
    let child = await start(env);
    try {
      const run = (await (await fetch(`${control}/v1/runs`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ runId: "crash", kinds: ["email"] }) })).json()) as {
        adminUrl: string; token: string; clones: { email: { url: string; apiKey: string } };
      };
      const admin = (m: string, p: string, b?: unknown) =>
        fetch(`${run.adminUrl}${p}`, { method: m, headers: { authorization: `Bearer ${run.token}` }, body: b instanceof Uint8Array ? b : b === undefined ? undefined : JSON.stringify(b) });
      // The receiver is down: every delivery stays pending, with retries on the run clock.
      await admin("POST", "/webhooks/endpoints", { kind: "email", url: `http://127.0.0.1:${hookPort}/hooks`, events: ["email.sent"] });
      const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
      const first = await resend.emails.send({ from: "a@acme.test", to: "before@acme.test", subject: "before the snapshot", text: "x" });
      const snap = (await (await admin("POST", "/snapshots", { label: "pre-crash" })).json()) as { id: string; sha256: string };

      // Load from 8 writers; SIGKILL lands while requests are in flight.
      const acked: string[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await resend.emails.send({ from: "a@acme.test", to: `w${w}@acme.test`, subject: `load ${w}-${i}`, text: "x" });
            if (r.data?.id) acked.push(r.data.id);
          } catch {
            return;
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      while (acked.length < 150) await new Promise((r) => setTimeout(r, 5));
      await kill(child);
      stop = true;
      await Promise.all(writers);

      child = await start(env);
      const got = await Promise.all(acked.map(async (id) => (await resend.emails.get(id)).data));
      expect(got.filter((e) => !e).length, "acknowledged emails missing after the crash").toBe(0);
      // Untorn: each email committed with its inbox row, in one transaction.
      const inbox = (await (await admin("GET", "/inbox")).json()) as { data: { ref?: string }[] };
      const refs = new Set(inbox.data.map((m) => m.ref));
      const list = (await resend.emails.list({ limit: 100 })).data!;
      expect(list.data.length).toBeGreaterThan(0);
      for (const e of list.data) expect(refs.has(e.id), `email ${e.id} has no inbox row`).toBe(true);
      for (const id of acked) expect(refs.has(id)).toBe(true);

      // The snapshot stored before the crash still verifies (import checks its sha256).
      const bundle = new Uint8Array(await (await fetch(`${run.adminUrl}/snapshots/${snap.id}`, { headers: { authorization: `Bearer ${run.token}`, accept: "application/gzip" } })).arrayBuffer());
      const imported = await admin("POST", "/snapshots/import", bundle);
      expect(imported.status).toBe(201);
      expect(((await imported.json()) as { sha256: string }).sha256).toBe(snap.sha256);

      // Pending deliveries resume once the receiver is up: nothing was lost.
      const received: string[] = [];
      const receiver = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          received.push(JSON.parse(body).data.email_id);
          res.end("ok");
        });
      });
      await new Promise<void>((r) => receiver.listen(hookPort, "127.0.0.1", () => r()));
      try {
        await admin("POST", "/clock/advance", { by: "6h" });
        expect(received).toContain(first.data!.id);
        for (const id of acked) expect(received, `email.sent for ${id}`).toContain(id);
      } finally {
        receiver.close();
      }
    } finally {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
