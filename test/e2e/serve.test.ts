// `molar-clones serve` (issue 9): one clone with its admin listener over TLS with client
// certificates, and the full engine with the admin API on a listener the vendors never share.
import { afterAll, describe, expect, it } from "vitest";
import https from "node:https";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { Resend } from "resend";
import { loadCa } from "../../src/runner/proxy-ca.ts";
import { ConfigError } from "../../src/runner/config.ts";
import { readServeConfig, serve, type Served } from "../../src/runner/serve.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "molar-serve-"));
const running: Served[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** A request with this test's CA (and, when given, a client certificate). */
function get(url: string, ca: string, o: { token?: string; client?: { key: string; cert: string } } = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca, ...(o.client ?? {}), headers: o.token ? { authorization: `Bearer ${o.token}` } : {}, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, json: body ? JSON.parse(body) : null }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("molar-clones serve", () => {
  it("fails closed on a misconfiguration, naming the setting", () => {
    expect(() => readServeConfig({ MOLAR_CLONES_TLS_CERT_FILE: "/nope.pem" }, {})).toThrow(/MOLAR_CLONES_TLS_CERT_FILE and MOLAR_CLONES_TLS_KEY_FILE/);
    expect(() => readServeConfig({ MOLAR_CLONES_TLS_CERT_FILE: "/nope.pem", MOLAR_CLONES_TLS_KEY_FILE: "/nope.key" }, {})).toThrow(/MOLAR_CLONES_TLS_CERT_FILE="\/nope.pem" cannot be read/);
    expect(() => readServeConfig({ MOLAR_CLONES_CLIENT_CA_FILE: "/ca.pem" }, {})).toThrow(/needs TLS/);
    expect(() => readServeConfig({}, { kind: "paypal" })).toThrow(ConfigError);
    expect(() => readServeConfig({ MOLAR_CLONE_ADDR: "127.0.0.1:9100", MOLAR_CLONE_ADMIN_ADDR: "127.0.0.1:9100" }, { kind: "stripe" })).toThrow(/never shares/);
    expect(() => readServeConfig({ MOLAR_CLONE_ADMIN_TOKEN: "short" }, { kind: "stripe" })).toThrow(/at least 16/);
    expect(() => readServeConfig({ MOLAR_CLONES_PUBLIC_URLS: '{"stripe":"not a url"}' }, {})).toThrow(/MOLAR_CLONES_PUBLIC_URLS must be JSON/);
    expect(readServeConfig({ MOLAR_CLONES_PUBLIC_URLS: '{"stripe":"https://stripe.clones.example.com"}' }, {}).publicUrls).toEqual({ stripe: "https://stripe.clones.example.com" });
    expect(readServeConfig({ MOLAR_CLONE_ADDR: "127.0.0.1:8001" }, { kind: "stripe" }).adminAddr).toEqual({ host: "127.0.0.1", port: 9001 });
  });

  it("runs one clone over TLS; its admin listener wants the token and a client certificate", async () => {
    const ca = await loadCa(path.join(dir, "ca"));
    const server = await ca.leaf("localhost");
    const client = await ca.leaf("ci-runner");
    writeFileSync(path.join(dir, "cert.pem"), server.cert);
    writeFileSync(path.join(dir, "key.pem"), server.key);
    const cfg = readServeConfig(
      {
        MOLAR_CLONES_ADDR: "localhost:0", MOLAR_CLONE_ADDR: "localhost:0", MOLAR_CLONE_ADMIN_ADDR: "localhost:0",
        MOLAR_CLONE_ADMIN_TOKEN: "serve-admin-token-0123456789", MOLAR_CLONE_SEED: "empty",
        MOLAR_CLONES_TLS_CERT_FILE: path.join(dir, "cert.pem"), MOLAR_CLONES_TLS_KEY_FILE: path.join(dir, "key.pem"),
        MOLAR_CLONES_CLIENT_CA_FILE: ca.certPath,
      },
      { kind: "stripe", inMemory: true },
    );
    const s = await serve(cfg);
    running.push(s);
    expect(s.urls.clone).toMatch(/^https:\/\/localhost:\d+$/);
    const run = s.run as any;
    expect(run).toMatchObject({ runId: "stripe", status: "active", adminUrl: s.urls.admin, clones: { stripe: { url: s.urls.clone } } });
    expect(run.env).toMatchObject({ MOLAR_CLONE_STRIPE_URL: s.urls.clone, MOLAR_CLONE_STRIPE_ADMIN_URL: s.urls.admin, MOLAR_CLONE_STRIPE_ADMIN_TOKEN: "serve-admin-token-0123456789" });

    // The vendor's SDK over TLS, trusting the private CA.
    const u = new URL(s.urls.clone!);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "https", httpAgent: new https.Agent({ ca: ca.certPem }) });
    const cus = await stripe.customers.create({ email: "onprem@acme.test" });
    expect(cus.id).toMatch(/^cus_/);
    // The vendor listener is never the admin ingress.
    expect((await get(`${s.urls.clone}/admin/v1/runs/stripe/clock`, ca.certPem)).status).toBe(401);

    // Admin: no client certificate, no TLS handshake; a certificate without the token, 401.
    await expect(get(`${s.urls.admin}/clock`, ca.certPem, { token: "serve-admin-token-0123456789" })).rejects.toThrow();
    expect((await get(`${s.urls.admin}/clock`, ca.certPem, { client })).status).toBe(401);
    const clock = await get(`${s.urls.admin}/clock`, ca.certPem, { client, token: "serve-admin-token-0123456789" });
    expect(clock).toMatchObject({ status: 200, json: { frozen: false, offsetMs: 0 } });
    const described = await get(`${s.urls.admin}/run`, ca.certPem, { client, token: "serve-admin-token-0123456789" });
    expect(described.json.clones.stripe.secretKey).toBe(run.clones.stripe.secretKey);
  });

  it("is reached by the SDK and an official SDK over TLS from the env block plus MOLAR_CLONE_<KIND>_TLS_CA_FILE", async () => {
    const ca = await loadCa(path.join(dir, "ca2"));
    const server = await ca.leaf("localhost");
    writeFileSync(path.join(dir, "cert2.pem"), server.cert);
    writeFileSync(path.join(dir, "key2.pem"), server.key);
    const s = await serve(readServeConfig(
      {
        MOLAR_CLONES_ADDR: "localhost:0", MOLAR_CLONE_ADDR: "localhost:0", MOLAR_CLONE_ADMIN_ADDR: "localhost:0", MOLAR_CLONE_ADMIN_TOKEN: "email-admin-token-0123456789",
        MOLAR_CLONES_TLS_CERT_FILE: path.join(dir, "cert2.pem"), MOLAR_CLONES_TLS_KEY_FILE: path.join(dir, "key2.pem"),
      },
      { kind: "email", inMemory: true },
    ));
    running.push(s);
    const env = { ...(s.run as any).env, MOLAR_CLONE_EMAIL_TLS_CA_FILE: ca.certPath };
    const { clones } = await import("../../src/sdk/index.ts");
    const run = clones.attach(env);
    const resend = new Resend(run.email.apiKey, run.email.config);
    expect(run.email.url).toMatch(/^https:/);
    expect((await resend.emails.send({ from: "a@acme.test", to: "tls@acme.test", subject: "over TLS", text: "x" })).error).toBeNull();
    await run.clock.advance("5s");
    expect((await run.inbox.waitFor({ to: "tls@acme.test" })).subject).toBe("over TLS");
    expect(() => clones.attach({ ...env, MOLAR_CLONE_EMAIL_TLS_CA_FILE: path.join(dir, "missing.pem") })).toThrow(/Cannot read the CA file/);
  });

  it("serves the whole engine with the admin API on its own listener", async () => {
    const cfg = readServeConfig(
      {
        MOLAR_CLONES_ADDR: "127.0.0.1:0", MOLAR_CLONES_ADMIN_ADDR: "127.0.0.1:0", MOLAR_CLONES_API_TOKEN: "serve-org-key-0123456789",
        MOLAR_CLONES_PUBLIC_URLS: JSON.stringify({ s3: "https://s3.clones.example.com" }),
        ...Object.fromEntries(["STRIPE", "TWILIO", "EMAIL", "AUTH", "S3"].map((k) => [`MOLAR_CLONE_${k}_ADDR`, "127.0.0.1:0"])),
      },
      { inMemory: true },
    );
    const s = await serve(cfg);
    running.push(s);
    const spawned = await fetch(`${s.urls.control}/v1/runs`, { method: "POST", headers: { authorization: "Bearer serve-org-key-0123456789", "content-type": "application/json" }, body: JSON.stringify({ kinds: ["email"] }) });
    expect(spawned.status).toBe(201);
    const run = (await spawned.json()) as any;
    expect(run.adminUrl.startsWith(`${s.urls.admin}/admin/v1/runs/`)).toBe(true);
    expect(run.env.MOLAR_CLONE_EMAIL_ADMIN_URL).toBe(run.adminUrl);
    // What an ingress exposes is what runs report.
    expect(run.clones.email.url).toBe(s.urls.email);
    expect(s.urls.s3).toBe("https://s3.clones.example.com");

    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    expect((await resend.emails.send({ from: "a@acme.test", to: "delivered@resend.dev", subject: "hi", text: "x" })).error).toBeNull();
    const auth = { authorization: `Bearer ${run.token}` };
    const inbox = await fetch(`${run.adminUrl}/inbox`, { headers: auth });
    expect(inbox.status).toBe(200);
    expect(((await inbox.json()) as any).data).toHaveLength(1);
    // The control listener does not serve the admin API; the admin listener serves nothing else.
    const viaControl = await fetch(run.adminUrl.replace(s.urls.admin!, s.urls.control!) + "/inbox", { headers: auth });
    expect(viaControl.status).toBe(404);
    expect(((await viaControl.json()) as any).error.code).toBe("admin_elsewhere");
    expect((await fetch(`${s.urls.admin}/v1/runs`, { headers: { authorization: "Bearer serve-org-key-0123456789" } })).status).toBe(404);
  });
});
