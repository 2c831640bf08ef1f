import type { Kind, Urls } from "../kernel/types.ts";

export interface RunRecord {
  worldId: string;
  runId: string;
  org: string;
  status: "active" | "torn_down" | "expired";
  seed: string;
  kinds: Kind[];
  metadata: Record<string, string>;
  credentials: Partial<Record<Kind, Record<string, string>>>;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
  actor: string;
}

const ENV_KIND: Record<Kind, string> = { stripe: "STRIPE", twilio: "TWILIO", email: "EMAIL", auth: "AUTH", s3: "S3" };

export function adminUrlOf(urls: Urls, runId: string): string {
  return `${urls.admin ?? urls.control}/admin/v1/runs/${encodeURIComponent(runId)}`;
}

/** What an app under test reads (CONTRACT section 5): our names and each vendor's own. */
export function envBlock(r: RunRecord, urls: Urls, token?: string): Record<string, string> {
  const env: Record<string, string> = {};
  const adminUrl = adminUrlOf(urls, r.runId);
  for (const kind of r.kinds) {
    const K = ENV_KIND[kind];
    env[`MOLAR_CLONE_${K}_URL`] = urls[kind];
    env[`MOLAR_CLONE_${K}_ADMIN_URL`] = adminUrl;
    if (token) env[`MOLAR_CLONE_${K}_ADMIN_TOKEN`] = token;
  }
  const c = r.credentials;
  if (c.stripe) Object.assign(env, { STRIPE_SECRET_KEY: c.stripe.secretKey, STRIPE_PUBLISHABLE_KEY: c.stripe.publishableKey });
  if (c.twilio) Object.assign(env, { TWILIO_ACCOUNT_SID: c.twilio.accountSid, TWILIO_AUTH_TOKEN: c.twilio.authToken });
  if (c.email) Object.assign(env, { RESEND_API_KEY: c.email.apiKey, RESEND_BASE_URL: urls.email });
  if (c.auth) {
    Object.assign(env, { CLERK_SECRET_KEY: c.auth.secretKey, CLERK_PUBLISHABLE_KEY: c.auth.publishableKey, CLERK_API_URL: urls.auth });
    // Clerk's own name for the PEM its SDK verifies session tokens with, without a network call.
    if (c.auth.jwtKey) env.CLERK_JWT_KEY = c.auth.jwtKey;
    // The app's Clerk SDK would otherwise report telemetry to Clerk's servers from a test.
    env.CLERK_TELEMETRY_DISABLED = "1";
  }
  if (c.s3) {
    Object.assign(env, { AWS_ACCESS_KEY_ID: c.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: c.s3.secretAccessKey, AWS_REGION: c.s3.region, AWS_ENDPOINT_URL_S3: urls.s3 });
  }
  return env;
}

/** The Run object of the control API. */
export function runJson(r: RunRecord, urls: Urls, token?: string) {
  const clones: Record<string, Record<string, string>> = {};
  for (const kind of r.kinds) clones[kind] = { url: urls[kind], ...(r.credentials[kind] ?? {}) };
  return {
    runId: r.runId,
    status: r.status,
    seed: r.seed,
    kinds: r.kinds,
    metadata: r.metadata,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
    ...(r.endedAt ? { endedAt: new Date(r.endedAt).toISOString() } : {}),
    ...(token ? { token } : {}),
    adminUrl: adminUrlOf(urls, r.runId),
    clones,
    env: envBlock(r, urls, token),
  };
}
