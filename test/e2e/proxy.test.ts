// The route proxy (issue 9): an app that builds `new Stripe(key)` with no host reaches its run
// through HTTPS_PROXY, its webhook handler verifies the clone's events, and a live vendor host
// is refused and counted.
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { advance, api, spawn, urls, type Run } from "./helpers.ts";
import { runProxy, type ProxyHandle } from "../../src/cli/engines.ts";
import { routeFor } from "../../src/runner/proxy.ts";

const root = path.resolve(import.meta.dirname, "../..");

describe("route proxy", () => {
  let handle: ProxyHandle;
  let stateDir: string;
  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "molar-proxy-"));
    const u = urls();
    handle = await runProxy(
      {
        PROXY_LISTEN_ADDR: "127.0.0.1:0",
        MOLAR_CLONES_STATE_DIR: stateDir,
        MOLAR_CLONES_CTRL_URL: u.control,
        MOLAR_CLONES_API_TOKEN: inject("orgKey"),
        MOLAR_CLONE_STRIPE_URL: u.stripe, MOLAR_CLONE_TWILIO_URL: u.twilio, MOLAR_CLONE_EMAIL_URL: u.email,
        MOLAR_CLONE_AUTH_URL: u.auth, MOLAR_CLONE_S3_URL: u.s3,
      },
      root,
      false,
    );
  });
  afterAll(async () => {
    await handle?.proxy.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("routes vendor hosts to their clone, refuses other live-vendor hosts, and in strict mode everything else", () => {
    expect(routeFor("api.stripe.com", false)).toMatchObject({ to: "clone", kind: "stripe" });
    expect(routeFor("verify.twilio.com", false)).toMatchObject({ to: "clone", kind: "twilio", prefix: "/verify" });
    expect(routeFor("api.resend.com", false)).toMatchObject({ to: "clone", kind: "email" });
    expect(routeFor("api.clerk.com", false)).toMatchObject({ to: "clone", kind: "auth" });
    expect(routeFor("my-bucket.s3.us-east-1.amazonaws.com", false)).toMatchObject({ to: "clone", kind: "s3", keepHost: true });
    expect(routeFor("uploads.stripe.com", false)).toMatchObject({ to: "refuse" });
    expect(routeFor("sqs.us-east-1.amazonaws.com", false)).toMatchObject({ to: "refuse" });
    expect(routeFor("169.254.169.254", false)).toMatchObject({ to: "refuse" });
    expect(routeFor("registry.npmjs.org", false)).toEqual({ to: "pass" });
    expect(routeFor("registry.npmjs.org", true)).toMatchObject({ to: "refuse", why: expect.stringContaining("strict") });
  });

  it("serves an unmodified app: its SDKs reach the run named by their keys and its webhook handler verifies the events", async () => {
    const run: Run = await spawn({ kinds: ["stripe", "twilio", "email", "s3"] });
    // The test (not the app) registers the app's webhook endpoint, as an operator would in Stripe's dashboard.
    const direct = new Stripe(run.clones.stripe.secretKey, { host: new URL(run.clones.stripe.url).hostname, port: Number(new URL(run.clones.stripe.url).port), protocol: "http" });
    const appPort = 20000 + Math.floor(Math.random() * 9000);
    const we = await direct.webhookEndpoints.create({ url: `http://127.0.0.1:${appPort}/webhooks/stripe`, enabled_events: ["customer.created", "payment_intent.succeeded"] });

    const app = await startApp({
      ...process.env,
      ...handle.env,
      PORT: String(appPort),
      STRIPE_SECRET_KEY: run.clones.stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: we.secret!,
      TWILIO_ACCOUNT_SID: run.clones.twilio.accountSid,
      TWILIO_AUTH_TOKEN: run.clones.twilio.authToken,
      RESEND_API_KEY: run.clones.email.apiKey,
      RESEND_BASE_URL: "",
      AWS_ACCESS_KEY_ID: run.clones.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: run.clones.s3.secretAccessKey,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: "",
      AWS_ENDPOINT_URL: "",
    });
    try {
      const call = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${appPort}${p}`, { method: p === "/events" ? "GET" : "POST" });
        return { status: r.status, json: (await r.json()) as any };
      };
      const checkout = await call("/checkout");
      expect(checkout).toMatchObject({ status: 200, json: { status: "succeeded", customer: expect.stringMatching(/^cus_/) } });
      // The app's objects are in this run's world, where the direct SDK sees them.
      expect((await direct.customers.retrieve(checkout.json.customer)).id).toBe(checkout.json.customer);
      expect((await direct.paymentIntents.retrieve(checkout.json.paymentIntent)).status).toBe("succeeded");

      await advance(run, "1m");
      expect((await call("/events")).json.events).toEqual(["customer.created", "payment_intent.succeeded"]);

      const notify = await call("/notify");
      expect(notify).toMatchObject({ status: 200, json: { sms: expect.stringMatching(/^SM/), email: expect.any(String) } });
      const inbox = await fetch(`${run.adminUrl}/inbox`, { headers: { authorization: `Bearer ${run.token}` } }).then((r) => r.json() as Promise<any>);
      expect(inbox.data.map((m: any) => m.channel).sort()).toEqual(["email", "sms"]);

      // S3 with no endpoint: bucket.s3.us-east-1.amazonaws.com, the signed Host kept, the bucket read from it.
      expect(await call("/invoice")).toEqual({ status: 200, json: { body: "invoice #1" } });
      const direct3 = new S3Client({ endpoint: run.clones.s3.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: run.clones.s3.accessKeyId, secretAccessKey: run.clones.s3.secretAccessKey } });
      expect((await direct3.send(new ListObjectsV2Command({ Bucket: "acme-invoices" }))).Contents?.map((o) => o.Key)).toEqual(["2026/inv-1.txt"]);

      const before = (await api("GET", "/v1/refusals", inject("orgKey"))).json.count as number;
      const live = await call("/live");
      expect(live.json.reached).toBe(false);
      expect(handle.proxy.refused()).toBeGreaterThanOrEqual(1);
      // The control plane's counter (the dashboard's card) saw it; the report is sent without blocking the app.
      let after = before;
      for (let i = 0; i < 50 && after === before; i++) {
        await new Promise((r) => setImmediate(r));
        after = (await api("GET", "/v1/refusals", inject("orgKey"))).json.count;
      }
      expect(after).toBe(before + 1);
      const audit = (await api("GET", "/v1/audit", inject("orgKey"))).json.data;
      expect(audit.find((a: any) => a.action === "refuse-live-vendor")).toMatchObject({ actor: "proxy", detail: expect.stringContaining("uploads.stripe.com") });
    } finally {
      app.kill("SIGTERM");
    }
  });
});

/** Starts the example app and resolves once it listens. */
function startApp(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawnProcess(process.execPath, [path.join(root, "examples/proxy-app/app.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    p.stderr!.on("data", (d) => (err += d));
    p.stdout!.on("data", (d) => {
      if (String(d).includes("listening")) resolve(p);
    });
    p.on("exit", (code) => reject(new Error(`app exited ${code}: ${err}`)));
  });
}
