// The dashboard in a real browser (Debian's Chromium through playwright-core): sign in, spawn a
// session from the UI, watch a request arrive live, drive the clock, snapshots and chaos, read an
// email safely, and check accessibility with axe-core. Screenshots go to test-results/dashboard/.
import { describe, expect, it, inject, beforeAll, afterAll } from "vitest";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { Resend } from "resend";
import Stripe from "stripe";
import twilio from "twilio";
import { twilioCloneHttpClient } from "../../src/sdk/twilio.ts";
import { chromium, type Browser, type Page } from "playwright-core";
import { api, receiver, uniqueId } from "./helpers.ts";

const CHROMIUM = process.env.MOLAR_CHROMIUM ?? "/usr/bin/chromium";
const have = existsSync(CHROMIUM);
if (!have) console.warn(`dashboard.test: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set MOLAR_CHROMIUM)`);
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/dashboard");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

async function axe(page: Page) {
  await page.addScriptTag({ content: AXE });
  const r = (await page.evaluate(() => (globalThis as unknown as { axe: { run: (o: object) => Promise<unknown> } }).axe.run({ runOnly: ["wcag2a", "wcag2aa"] }))) as {
    violations: { id: string; impact: string; nodes: { html: string }[] }[];
  };
  return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(" | ").slice(0, 300)}`);
}

async function shoot(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!have)("dashboard in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  }, 60_000);
  afterAll(() => browser?.close());

  const signIn = async (page: Page, key: string) => {
    await page.goto(`${inject("urls").control}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("Org API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${inject("urls").control}/`);
  };

  it("walks sign-in, overview, sessions and a session's workspace", async () => {
    // bypassCSP only so axe-core can be injected; the pages' CSP is checked in the next test.
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${inject("urls").control}/login`);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "login");
    await page.getByLabel("Org API key").fill("not-a-key-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("not an org API key");

    await signIn(page, inject("orgKey"));
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Overview");
    expect(await axe(page)).toEqual([]);
    await shoot(page, "overview");

    // Spawn from the UI: email, Stripe and Twilio.
    const runId = uniqueId("ui");
    await page.getByLabel("Run id").first().fill(runId);
    for (const k of ["auth", "s3"]) await page.getByRole("checkbox", { name: k }).first().uncheck();
    await page.getByRole("button", { name: "Spawn" }).first().click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(`Session ${runId}`);

    // A call made with the SDK appears live in the request stream.
    const run = (await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json;
    // A webhook receiver that is down, so the inspector has attempts and a retry to show.
    const hooks = await receiver();
    hooks.state.fail = true;
    await fetch(`${run.adminUrl}/webhooks/endpoints`, { method: "POST", headers: { authorization: `Bearer ${inject("orgKey")}`, "content-type": "application/json" }, body: JSON.stringify({ kind: "email", url: hooks.url, events: ["email.sent"] }) });
    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    await page.locator("#stream[data-live=true]").waitFor();
    const sent = await resend.emails.send({
      from: "a@acme.test", to: "reader@acme.test", subject: "Hi from the UI test",
      html: `<p>Hello</p><script>parent.document.title = "pwned"</script><img src=x onerror="parent.document.title='pwned'">`,
    });
    expect(sent.error).toBeNull();
    await page.locator("#stream tr", { hasText: "/emails" }).first().waitFor({ timeout: 10_000 });

    // A Stripe call appears live too; a paid invoice's webhook goes to a Stripe endpoint.
    const su = new URL(run.clones.stripe.url);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: su.hostname, port: Number(su.port), protocol: "http" });
    const stripeHooks = await receiver();
    await stripe.webhookEndpoints.create({ url: stripeHooks.url, enabled_events: ["invoice.paid"] });
    const cus = await stripe.customers.create({ email: "payer@acme.test" });
    const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: cus.id });
    await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
    await page.locator("#stream tr", { hasText: "/v1/customers" }).first().waitFor({ timeout: 10_000 });
    await stripe.invoiceItems.create({ customer: cus.id, amount: 2500, currency: "usd", description: "Setup fee" });
    const inv = await stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: "include", auto_advance: false });
    expect((await stripe.invoices.pay(inv.id)).status).toBe("paid");
    // An OTP sent by Twilio Verify, for the inbox.
    const tw = twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });
    const verify = await tw.verify.v2.services.create({ friendlyName: "UI test" });
    await tw.verify.v2.services(verify.sid).verifications.create({ to: "+15551230077", channel: "sms" });

    // Advance the clock from the UI: the delivery fires; the inbox shows the mail, sandboxed.
    await page.getByLabel("Advance by").fill("10s");
    await page.getByRole("button", { name: "Advance" }).click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    const frame = page.locator(`iframe[title="Email to reader@acme.test"]`);
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    // The mail renders, and its scripts (inline and event handlers) never ran.
    await page.frameLocator(`iframe[title="Email to reader@acme.test"]`).getByText("Hello").waitFor();
    expect(await page.title()).toBe(`${runId} · Molar Clones`);

    // The OTP is in the inbox; the invoice webhook is in the inspector, signed as Stripe signs.
    expect(await page.locator("article", { hasText: "+15551230077" }).locator("code").textContent()).toMatch(/^\d{6}$/);
    await page.getByRole("link", { name: "invoice.paid" }).click();
    expect(await page.getByText("Stripe-Signature: t=").count()).toBe(1);
    expect(await page.locator("tbody tr", { hasText: "200" }).count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("pre").textContent()).toContain(`"id": "${inv.id}"`);
    expect(stripeHooks.got.map((g) => JSON.parse(g.body).type)).toContain("invoice.paid");
    await stripeHooks.close();
    await page.goBack();

    // The webhook inspector: the failed attempt, the signing scheme, the schedule, the payload.
    await page.getByRole("link", { name: "email.sent" }).first().click();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("email.sent");
    expect(await page.locator("tbody tr", { hasText: "HTTP 500" }).count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByText("svix-signature").count()).toBeGreaterThan(0);
    expect(await page.getByText("after a failure: 5 s, 5 min").count()).toBe(1);
    expect(await page.locator("pre").textContent()).toContain('"type": "email.sent"');
    expect(await axe(page)).toEqual([]);
    await shoot(page, "webhook-inspector");
    hooks.state.fail = false;
    await page.getByRole("button", { name: "Redeliver now" }).click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    expect(hooks.got).toHaveLength(1);
    await hooks.close();

    // Snapshots: save, then restore from the UI.
    await page.getByLabel("Label").fill("ui-snap");
    await page.getByRole("button", { name: "Save snapshot" }).click();
    await page.getByRole("button", { name: "Restore ui-snap" }).click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    // A second snapshot after another email: compare the two, download one, branch, delete.
    await resend.emails.send({ from: "a@acme.test", to: "reader@acme.test", subject: "second", text: "x" });
    await page.getByLabel("Label").fill("ui-snap-2");
    await page.getByRole("button", { name: "Save snapshot" }).click();
    await page.getByLabel("Compare").selectOption({ label: "ui-snap" });
    await page.getByLabel("with").selectOption({ label: "ui-snap-2" });
    await page.getByRole("button", { name: "Compare" }).click();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Compare snapshots");
    expect(await page.locator("tbody tr", { hasText: "added" }).filter({ hasText: "email" }).count()).toBeGreaterThan(0);
    expect(await axe(page)).toEqual([]);
    await page.goBack();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download ui-snap-2" }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${runId}-snap_.*\\.molar\\.gz$`));
    await page.getByRole("button", { name: "Branch a new session from ui-snap-2" }).click();
    await page.waitForURL((u) => /\/sessions\/run_/.test(u.pathname));
    const branched = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
    const branchedRun = (await api("GET", `/v1/runs/${branched}`, inject("orgKey"))).json;
    expect(branchedRun.metadata).toEqual({ branchedFrom: runId });
    await api("DELETE", `/v1/runs/${branched}`, inject("orgKey"));
    await page.goto(`${inject("urls").control}/sessions/${runId}`);
    await page.getByRole("button", { name: "Delete ui-snap-2" }).click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    expect(await page.getByRole("button", { name: "Delete ui-snap-2" }).count()).toBe(0);

    // Chaos from the UI.
    await page.getByLabel("Preset").selectOption("email/bounce");
    await page.getByRole("button", { name: "Add" }).click();
    await page.locator("td", { hasText: "bounce" }).first().waitFor();
    expect(await axe(page)).toEqual([]);
    await shoot(page, "workspace");

    // The clock set to an instant, the log exported as JSONL, a fresh run token minted.
    const now = (await (await fetch(`${run.adminUrl}/clock`, { headers: { authorization: `Bearer ${inject("orgKey")}` } })).json()) as { now: string };
    const target = new Date(Date.parse(now.now) + 3 * 86_400_000).toISOString().slice(0, 19);
    await page.getByLabel("Set to").fill(target);
    await page.getByRole("button", { name: "Set", exact: true }).click();
    await page.waitForURL(new RegExp(`/sessions/${runId}$`));
    // The clock runs on from the instant it was set to.
    const shown = Date.parse((await page.locator("#clock-now").textContent())!) - Date.parse(`${target}Z`);
    expect(shown).toBeGreaterThanOrEqual(0);
    expect(shown).toBeLessThan(10_000);
    const [jsonl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export the log (JSONL)" }).click()]);
    const lines = readFileSync((await jsonl.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.find((l: { path: string }) => l.path === "/emails")).toMatchObject({ kind: "email", method: "POST", status: 200 });
    await page.getByRole("button", { name: "Mint a run token" }).click();
    const minted = (await page.getByTestId("run-token").textContent())!.trim();
    expect((await fetch(`${run.adminUrl}/clock`, { headers: { authorization: `Bearer ${minted}` } })).status).toBe(200);
    await page.goto(`${inject("urls").control}/sessions/${runId}`);

    await page.goto(`${inject("urls").control}/sessions?kind=email&q=${runId}`);
    expect(await page.locator("tbody tr", { hasText: runId }).count()).toBe(1);
    const before = (await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.expiresAt;
    await page.getByRole("checkbox", { name: `Pick ${runId}` }).check();
    await page.getByRole("button", { name: "Extend 1 h" }).click();
    await page.waitForURL(/\/sessions$/);
    expect(Date.parse((await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.expiresAt) - Date.parse(before)).toBe(3_600_000);
    await page.goto(`${inject("urls").control}/sessions?kind=email&q=${runId}`);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "sessions");
    await page.getByRole("button", { name: `Tear down ${runId}` }).click();
    await page.waitForURL(/\/sessions$/);
    expect((await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.status).toBe("torn_down");
    expect(pageErrors).toEqual([]);
    await ctx.close();
  }, 60_000);

  it("walks the explorers, the library, the fleet, observability and usage", async () => {
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await signIn(page, inject("orgKey"));
    const base = inject("urls").control;

    // A Stripe customer made through the SDK shows in the explorer, with its JSON.
    const run = (await api("POST", "/v1/runs", inject("orgKey"), { runId: uniqueId("explore"), kinds: ["stripe"] })).json;
    const su = new URL(run.clones.stripe.url);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: su.hostname, port: Number(su.port), protocol: "http" });
    const cus = await stripe.customers.create({ email: "explorer@acme.test" });
    await page.goto(`${base}/clones/stripe?session=${run.runId}`);
    expect(await page.getByTestId("coverage").textContent()).toMatch(/^\d+ method \+ path patterns served/);
    await page.getByRole("link", { name: "customer", exact: true }).click();
    await page.getByText(cus.id, { exact: true }).click();
    expect(await page.locator("details[open] pre").textContent()).toContain("explorer@acme.test");
    expect(await axe(page)).toEqual([]);
    await shoot(page, "explorer");

    await page.goto(`${base}/library`);
    expect(await page.getByRole("cell", { name: "card_declined", exact: true }).count()).toBe(1);
    // Save the explored session as an org preset, see it listed with its export, delete it.
    const presetName = `ui-${Date.now().toString(36)}`;
    await page.getByLabel("Save session").selectOption(run.runId);
    await page.getByLabel("as", { exact: true }).fill(presetName);
    await page.getByRole("button", { name: "Save preset" }).click();
    await page.waitForURL(`${base}/library`);
    expect(await page.getByRole("link", { name: `Export org:${presetName}` }).count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "library");
    await page.getByRole("button", { name: `Delete org:${presetName}` }).click();
    await page.waitForURL(`${base}/library`);

    // Register the run as a fleet endpoint from the UI, then check it.
    await page.goto(`${base}/fleet`);
    await page.getByLabel("Kind").selectOption("stripe");
    await page.getByLabel("API URL").fill(run.clones.stripe.url);
    await page.getByLabel("Admin URL").fill(run.adminUrl);
    await page.getByLabel("Admin token").fill(run.token);
    await page.getByLabel("Labels").fill("team=ui");
    await page.getByRole("button", { name: "Register" }).click();
    await page.waitForURL(`${base}/fleet`);
    const row = page.locator("tbody tr", { hasText: run.clones.stripe.url });
    await row.getByRole("button", { name: /^Check/ }).click();
    await page.waitForURL(`${base}/fleet`);
    expect(await page.locator("tbody tr", { hasText: run.clones.stripe.url }).locator(".ok").textContent()).toBe("healthy");
    expect(await page.content()).not.toContain(run.token);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "fleet");
    await page.locator("tbody tr", { hasText: run.clones.stripe.url }).getByRole("button", { name: /^Remove/ }).click();
    await page.waitForURL(`${base}/fleet`);

    await page.goto(`${base}/observability`);
    expect(await page.locator("tbody tr", { hasText: run.runId }).count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "observability");
    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${inject("orgKey")}` } });
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toMatch(/^molar_sessions_active\{org="default"\} \d+$/m);
    expect(text).toMatch(/^molar_requests\{org="default",kind="stripe"\} \d+$/m);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);

    // Settings: make a key (shown once), see it work, revoke it from the UI.
    await page.goto(`${base}/settings`);
    await page.getByLabel("Label").fill("ui-key");
    await page.getByLabel("Scope").selectOption("read");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("new-key").locator("pre").textContent())!.trim();
    expect((await api("GET", "/v1/runs", key)).status).toBe(200);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "settings");
    await page.goto(`${base}/settings`);
    expect(await page.content()).not.toContain(key);
    await page.getByRole("button", { name: "Revoke ui-key" }).first().click();
    await page.waitForURL(`${base}/settings`);
    expect((await api("GET", "/v1/runs", key)).status).toBe(401);

    await page.goto(`${base}/developers`);
    expect(await page.locator("#d-sdk + pre").textContent()).toContain(`MOLAR_CLONES_CTRL_URL=${base}`);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "developers");

    await page.goto(`${base}/billing`);
    expect(await page.locator("tbody tr").count()).toBeGreaterThan(0);
    expect(await axe(page)).toEqual([]);
    await shoot(page, "usage");
    expect(pageErrors).toEqual([]);
    await api("DELETE", `/v1/runs/${run.runId}`, inject("orgKey"));
    await ctx.close();
  }, 60_000);

  it("refuses forms without their CSRF token, and never shows another org's session", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, inject("orgKey"));
    const runId = uniqueId("ui");
    await api("POST", "/v1/runs", inject("orgKey"), { runId, kinds: ["email"] });
    const csp = (await page.goto(`${inject("urls").control}/`))?.headers()["content-security-policy"] ?? "";
    expect(csp).toMatch(/script-src 'nonce-[0-9a-f]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    const forged = await page.request.post(`${inject("urls").control}/sessions/${runId}/teardown`, { form: { _csrf: "forged" }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect((await api("GET", `/v1/runs/${runId}`, inject("orgKey"))).json.status).toBe("active");

    const other = await browser.newContext();
    const page2 = await other.newPage();
    await signIn(page2, inject("otherKey"));
    const res = await page2.goto(`${inject("urls").control}/sessions/${runId}`);
    expect(res?.status()).toBe(404);
    await other.close();
    await ctx.close();
  }, 60_000);
});
