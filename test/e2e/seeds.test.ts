// The golden seeds (issue 7): each spawned world holds what its description promises, read back
// through the official SDKs; a seed is applied later by the admin API too, and a seed whose
// clones the run lacks is refused.
import { describe, expect, it, inject } from "vitest";
import Stripe from "stripe";
import twilio from "twilio";
import { Resend } from "resend";
import { createClerkClient } from "@clerk/backend";
import { GetObjectCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { twilioCloneHttpClient } from "../../src/sdk/twilio.ts";
import { admin, advance, api, spawn, type Run } from "./helpers.ts";

const stripeOf = (run: Run) => {
  const u = new URL(run.clones.stripe.url);
  return new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "http" });
};
const s3Of = (run: Run) => new S3Client({ endpoint: run.clones.s3.url, region: run.clones.s3.region, forcePathStyle: true, credentials: { accessKeyId: run.clones.s3.accessKeyId, secretAccessKey: run.clones.s3.secretAccessKey } });
const clerkOf = (run: Run) => createClerkClient({ secretKey: run.clones.auth.secretKey, apiUrl: run.clones.auth.url });

describe("golden seeds", () => {
  it("are listed with what they hold", async () => {
    const r = await api("GET", "/v1/seeds", inject("orgKey"));
    expect(r.json.data.map((s: any) => s.name)).toEqual(["empty", "clerk-login", "stripe-checkout", "tenant-isolation", "trial-dunning", "phone-otp-signup", "password-reset", "s3-invoice-pdf"]);
    for (const s of r.json.data) expect(s.description.length).toBeGreaterThan(10);
  });

  it("clerk-login and password-reset: users and a session, read by @clerk/backend", async () => {
    const run = await spawn({ seed: "clerk-login", kinds: ["auth"] });
    const clerk = clerkOf(run);
    const users = await clerk.users.getUserList();
    expect(users.data.map((u) => u.emailAddresses[0].emailAddress)).toEqual(["ada@example.test"]);
    expect((await clerk.users.verifyPassword({ userId: users.data[0].id, password: "correct-horse-battery-staple" })).verified).toBe(true);
    expect((await clerk.sessions.getSessionList({ userId: users.data[0].id })).data.map((s) => s.status)).toEqual(["active"]);

    const reset = await spawn({ seed: "password-reset", kinds: ["auth", "email"] });
    expect((await clerkOf(reset).users.getUserList()).data[0].passwordEnabled).toBe(true);
    const domains = await new Resend(reset.clones.email.apiKey, { baseUrl: reset.clones.email.url }).domains.list();
    expect(domains.data!.data.map((d) => d.name)).toEqual(["example.test"]);
  });

  it("stripe-checkout and trial-dunning: catalog, a paid customer, a trial that goes past_due", async () => {
    const run = await spawn({ seed: "stripe-checkout", kinds: ["stripe", "email"] });
    const stripe = stripeOf(run);
    expect((await stripe.prices.list()).data.map((p) => p.unit_amount).sort()).toEqual([1900, 4900]);
    const [customer] = (await stripe.customers.list()).data;
    expect(customer.email).toBe("buyer@example.test");
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: "card" })).data[0].card?.brand).toBe("visa");
    expect((await stripe.paymentIntents.list()).data.map((p) => p.status)).toEqual(["succeeded"]);

    const trial = await spawn({ seed: "trial-dunning", kinds: ["stripe", "email"] });
    const ts = stripeOf(trial);
    const [sub] = (await ts.subscriptions.list()).data;
    expect(sub.status).toBe("trialing");
    await advance(trial, "8d");
    expect((await ts.subscriptions.retrieve(sub.id)).status).toBe("past_due");
  });

  it("tenant-isolation and s3-invoice-pdf: organizations and buckets, read by their SDKs", async () => {
    const run = await spawn({ seed: "tenant-isolation", kinds: ["auth", "s3"] });
    expect((await clerkOf(run).organizations.getOrganizationList()).data.map((o) => o.slug).sort()).toEqual(["acme", "globex"]);
    const s3 = s3Of(run);
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name).sort()).toEqual(["tenant-acme", "tenant-globex"]);
    const csv = await s3.send(new GetObjectCommand({ Bucket: "tenant-acme", Key: "reports/q3.csv" }));
    expect(await csv.Body!.transformToString()).toBe("tenant,revenue\nacme,100\n");

    // Applied later, to a run spawned empty.
    const later = await spawn({ kinds: ["s3"] });
    const applied = await admin(later, "POST", "/seeds/s3-invoice-pdf");
    expect(applied.json).toEqual({ seed: "s3-invoice-pdf", calls: 2 });
    const pdf = await s3Of(later).send(new GetObjectCommand({ Bucket: "invoices", Key: "invoices/2026/inv_0001.pdf" }));
    expect(pdf.ContentType).toBe("application/pdf");
    expect((await pdf.Body!.transformToString()).startsWith("%PDF-1.4")).toBe(true);
  });

  it("phone-otp-signup: a Verify service whose codes land in the inbox", async () => {
    const run = await spawn({ seed: "phone-otp-signup", kinds: ["twilio"] });
    const client = twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });
    const [service] = await client.verify.v2.services.list();
    expect(service).toMatchObject({ friendlyName: "Acme sign-up", codeLength: 6 });
    await client.verify.v2.services(service.sid).verifications.create({ to: "+15551230001", channel: "sms" });
    const inbox = (await admin(run, "GET", "/inbox?to=%2B15551230001")).json.data;
    expect(inbox[0].code).toMatch(/^\d{6}$/);
  });

  it("refuses a seed whose clones the run lacks, and an unknown one", async () => {
    const r = await api("POST", "/v1/runs", inject("orgKey"), { seed: "s3-invoice-pdf", kinds: ["email"] });
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: "seed_failed", message: expect.stringContaining("s3") });
    expect((await api("POST", "/v1/runs", inject("orgKey"), { seed: "no-such-seed" })).json.error.code).toBe("unknown_seed");
    const run = await spawn({ kinds: ["email"] });
    expect((await admin(run, "POST", "/seeds/nope")).status).toBe(404);
  });
});
