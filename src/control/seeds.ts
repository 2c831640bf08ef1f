// The golden seeds: starting worlds for the scenarios apps test most, kept as data. A seed is a
// list of vendor API calls made with the run's own credentials through the clones' own routes,
// so what it leaves behind is exactly what the official SDKs would have made. Applied at spawn
// (`seed`) or later (`POST {adminUrl}/seeds/{name}`).
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import type { Kind } from "../kernel/types.ts";

export interface SeedStep {
  kind: Kind;
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `{{name.field}}` takes a field from an earlier step's JSON answer; `{{creds.kind.key}}` a credential. */
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  /** A raw body (S3 objects), with its content type. */
  raw?: { body: string; contentType: string };
  as?: string;
}

export interface Seed {
  description: string;
  kinds: Kind[];
  steps: SeedStep[];
}

/** The smallest valid PDF: one empty page, so "the invoice PDF" opens in any viewer. */
const PDF =
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
  "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

export const GOLDEN_SEEDS: Record<string, Seed> = {
  "clerk-login": {
    description: "Auth: a user (ada@example.test, password correct-horse-battery-staple) with an active session, ready to sign in a browser (run.signIn) or mint tokens.",
    kinds: ["auth"],
    steps: [
      { kind: "auth", method: "POST", path: "/v1/users", json: { email_address: ["ada@example.test"], password: "correct-horse-battery-staple", first_name: "Ada", last_name: "Lovelace" }, as: "user" },
      { kind: "auth", method: "POST", path: "/v1/sessions", json: { user_id: "{{user.id}}" } },
    ],
  },
  "stripe-checkout": {
    description: "Stripe: a product with a one-off and a monthly price, and a customer (buyer@example.test) who has paid once with a saved Visa; the Resend clone is there for the app's receipt email.",
    kinds: ["stripe", "email"],
    steps: [
      { kind: "stripe", method: "POST", path: "/v1/products", form: { name: "Pro plan" }, as: "product" },
      { kind: "stripe", method: "POST", path: "/v1/prices", form: { product: "{{product.id}}", unit_amount: "4900", currency: "usd" } },
      { kind: "stripe", method: "POST", path: "/v1/prices", form: { product: "{{product.id}}", unit_amount: "1900", currency: "usd", "recurring[interval]": "month" } },
      { kind: "stripe", method: "POST", path: "/v1/customers", form: { email: "buyer@example.test", name: "Buyer" }, as: "customer" },
      { kind: "stripe", method: "POST", path: "/v1/payment_methods/pm_card_visa/attach", form: { customer: "{{customer.id}}" } },
      { kind: "stripe", method: "POST", path: "/v1/payment_intents", form: { amount: "4900", currency: "usd", customer: "{{customer.id}}", payment_method: "pm_card_visa", confirm: "true", receipt_email: "buyer@example.test" } },
    ],
  },
  "tenant-isolation": {
    description: "Two tenants: Clerk organizations acme and globex with one member each, and one S3 bucket per tenant holding its own file; a test proves neither sees the other's.",
    kinds: ["auth", "s3"],
    steps: [
      { kind: "auth", method: "POST", path: "/v1/users", json: { email_address: ["alice@acme.test"] }, as: "alice" },
      { kind: "auth", method: "POST", path: "/v1/users", json: { email_address: ["bob@globex.test"] }, as: "bob" },
      { kind: "auth", method: "POST", path: "/v1/organizations", json: { name: "Acme", slug: "acme", created_by: "{{alice.id}}" } },
      { kind: "auth", method: "POST", path: "/v1/organizations", json: { name: "Globex", slug: "globex", created_by: "{{bob.id}}" } },
      { kind: "s3", method: "PUT", path: "/tenant-acme" },
      { kind: "s3", method: "PUT", path: "/tenant-globex" },
      { kind: "s3", method: "PUT", path: "/tenant-acme/reports/q3.csv", raw: { body: "tenant,revenue\nacme,100\n", contentType: "text/csv" } },
      { kind: "s3", method: "PUT", path: "/tenant-globex/reports/q3.csv", raw: { body: "tenant,revenue\nglobex,200\n", contentType: "text/csv" } },
    ],
  },
  "trial-dunning": {
    description: "Stripe billing: a monthly price and a customer on a 7-day trial whose card is declined at renewal; advance 8 days for past_due and the dunning retries.",
    kinds: ["stripe", "email"],
    steps: [
      { kind: "stripe", method: "POST", path: "/v1/products", form: { name: "Team plan" }, as: "product" },
      { kind: "stripe", method: "POST", path: "/v1/prices", form: { product: "{{product.id}}", unit_amount: "2900", currency: "usd", "recurring[interval]": "month" }, as: "price" },
      { kind: "stripe", method: "POST", path: "/v1/customers", form: { email: "trial@example.test" }, as: "customer" },
      { kind: "stripe", method: "POST", path: "/v1/payment_methods/pm_card_chargeCustomerFail/attach", form: { customer: "{{customer.id}}" }, as: "pm" },
      { kind: "stripe", method: "POST", path: "/v1/customers/{{customer.id}}", form: { "invoice_settings[default_payment_method]": "{{pm.id}}" } },
      { kind: "stripe", method: "POST", path: "/v1/subscriptions", form: { customer: "{{customer.id}}", "items[0][price]": "{{price.id}}", trial_period_days: "7" } },
    ],
  },
  "phone-otp-signup": {
    description: "Twilio Verify: a service (\"Acme sign-up\", 6-digit codes) and a sender number with an SMS webhook slot; start a verification and read the code from the inbox.",
    kinds: ["twilio"],
    steps: [
      { kind: "twilio", method: "POST", path: "/verify/v2/Services", form: { FriendlyName: "Acme sign-up", CodeLength: "6" } },
      { kind: "twilio", method: "POST", path: "/2010-04-01/Accounts/{{creds.twilio.accountSid}}/IncomingPhoneNumbers.json", form: { PhoneNumber: "+15005550006", FriendlyName: "Sign-up sender" } },
    ],
  },
  "password-reset": {
    description: "Auth + email: a user (reset@example.test) with a password, and a verified sending domain, ready for a password-reset flow whose email lands in the inbox.",
    kinds: ["auth", "email"],
    steps: [
      { kind: "auth", method: "POST", path: "/v1/users", json: { email_address: ["reset@example.test"], password: "old-password-0123", first_name: "Reset" } },
      { kind: "email", method: "POST", path: "/domains", json: { name: "example.test" } },
    ],
  },
  "s3-invoice-pdf": {
    description: "S3: a bucket `invoices` holding invoices/2026/inv_0001.pdf (a valid one-page PDF, with metadata), for download and presigned-URL tests.",
    kinds: ["s3"],
    steps: [
      { kind: "s3", method: "PUT", path: "/invoices" },
      { kind: "s3", method: "PUT", path: "/invoices/invoices/2026/inv_0001.pdf", raw: { body: PDF, contentType: "application/pdf" } },
    ],
  },
};

export const SEED_NAMES = ["empty", ...Object.keys(GOLDEN_SEEDS)];

export class SeedError extends Error {}

type Creds = Partial<Record<Kind, Record<string, string>>>;

function fill(v: unknown, saved: Record<string, unknown>): unknown {
  if (typeof v === "string") {
    return v.replace(/\{\{([a-z0-9_]+)((?:\.[A-Za-z0-9_]+)+)\}\}/g, (_m, name: string, path: string) => {
      let cur: unknown = saved[name];
      for (const p of path.slice(1).split(".")) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
      if (typeof cur !== "string" && typeof cur !== "number") throw new SeedError(`seed step refers to {{${name}${path}}}, which an earlier step did not give`);
      return String(cur);
    });
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, saved));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, saved)]));
  return v;
}

/** One step as the official SDK would send it: the vendor's auth, body encoding and, for S3, SigV4. */
async function request(step: SeedStep, creds: Creds, saved: Record<string, unknown>): Promise<Request> {
  const c = creds[step.kind];
  if (!c) throw new SeedError(`the seed needs the ${step.kind} clone; spawn with kinds including "${step.kind}"`);
  const path = fill(step.path, saved) as string;
  const url = `http://${step.kind}.seed${path}`;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (step.json !== undefined) {
    body = JSON.stringify(fill(step.json, saved));
    headers["content-type"] = "application/json";
  } else if (step.form) {
    body = new URLSearchParams(fill(step.form, saved) as Record<string, string>).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else if (step.raw) {
    body = step.raw.body;
    headers["content-type"] = step.raw.contentType;
  }
  if (step.kind === "twilio") headers.authorization = `Basic ${btoa(`${c.accountSid}:${c.authToken}`)}`;
  else if (step.kind === "s3") {
    const signer = new SignatureV4({ service: "s3", region: c.region ?? "us-east-1", credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
    const signed = await signer.sign({ method: step.method, protocol: "http:", hostname: "s3.seed", path, query: {}, headers: { ...headers, host: "s3.seed", ...(body !== undefined ? { "content-length": String(new TextEncoder().encode(body).byteLength) } : {}) }, body });
    return new Request(url, { method: step.method, headers: signed.headers as Record<string, string>, body });
  } else headers.authorization = `Bearer ${step.kind === "email" ? c.apiKey : c.secretKey}`;
  return new Request(url, { method: step.method, headers, body });
}

/**
 * Applies a seed through `call` (the run's vendor entry); answers how many calls it made. A step
 * the vendor refuses stops the seed with the vendor's own message.
 */
export async function applySeed(name: string, creds: Creds, call: (kind: Kind, req: Request) => Promise<Response>): Promise<number> {
  const seed = GOLDEN_SEEDS[name];
  if (!seed) return 0;
  const missing = seed.kinds.filter((k) => !creds[k]);
  if (missing.length) throw new SeedError(`the ${name} seed needs the ${missing.join(", ")} clone${missing.length > 1 ? "s" : ""}; spawn with kinds including them`);
  const saved: Record<string, unknown> = { creds };
  for (const step of seed.steps) {
    const res = await call(step.kind, await request(step, creds, saved));
    const text = await res.text();
    if (res.status >= 300) throw new SeedError(`seed ${name}: ${step.method} ${step.path} answered ${res.status}: ${text.slice(0, 300)}`);
    if (step.as) saved[step.as] = text ? JSON.parse(text) : null;
  }
  return seed.steps.length;
}
