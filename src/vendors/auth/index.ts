import { Webhook } from "standardwebhooks";
import type { VendorPlugin } from "../../kernel/types.ts";
import { SVIX_RETRIES } from "../../kernel/outbox.ts";
import { bearer, isWorldId, worldAt } from "../credentials.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import migrations from "../../../migrations/auth/migrations.js";
import { clerkErrors } from "./errors.ts";
import { authRouter, authUnmatched } from "./routes.ts";
import { authAdmin } from "./admin.ts";

const publishableKeyOf = (w: string) => `pk_test_${btoa(`clerk.${w}.molar.localhost$`)}`;

/** The world a sign-in page path names (`/molar/<worldId>/...`), if it is one. */
function pageWorld(req: Request): string | null {
  const m = /^\/molar\/([0-9a-f]{32})\//.exec(new URL(req.url).pathname);
  return m && isWorldId(m[1]) ? m[1] : null;
}

/** The auth clone: Clerk's Backend API, RS256 session tokens with the run's key, svix-signed webhooks. */
export const auth: VendorPlugin = {
  kind: "auth",
  migrations,
  tables: [
    { name: "auth_users", type: "user", idColumn: "id" },
    { name: "auth_identifiers", type: "identifier", idColumn: "id" },
    { name: "auth_sessions", type: "session", idColumn: "id" },
    { name: "auth_jwt_templates", type: "jwt_template", idColumn: "id" },
    { name: "auth_organizations", type: "organization", idColumn: "id" },
    { name: "auth_memberships", type: "organization_membership", idColumn: "id" },
    { name: "auth_sign_in_tokens", type: "sign_in_token", idColumn: "id" },
    { name: "auth_invitations", type: "invitation", idColumn: "id" },
    // One-time codes in flight: carried by snapshots, not counted as resources.
    { name: "auth_verifications" },
  ],
  maxBodyBytes: 1 << 20,
  errors: clerkErrors,
  // The sign-in page is public, like Clerk's Frontend API: its path names the world.
  worldIdOf: (req) => pageWorld(req) ?? worldAt(bearer(req), "sk_test_"),
  mintCredentials: async (w) => ({
    secretKey: `sk_test_${w}${randomBase62(24)}`,
    // Clerk derives the Frontend API host from the publishable key: base64("<host>$").
    publishableKey: publishableKeyOf(w),
  }),
  authenticate: (req, creds) => {
    const w = pageWorld(req);
    return w ? creds.publishableKey === publishableKeyOf(w) : safeEqual(bearer(req) ?? "", creds.secretKey);
  },
  router: authRouter,
  unmatched: authUnmatched,
  jobs: () => ({}),
  presets: {
    session_expired: { description: "Session calls answer 401 session_expired", path: "/v1/sessions/**", status: 401 },
    otp_rejected: { description: "The next code entered is rejected as incorrect (form_code_incorrect), even a right one" },
  },
  retrySchedule: SVIX_RETRIES,
  async sign({ eventId, body, secret, wallNowMs }) {
    const ts = new Date(Math.floor(wallNowMs / 1000) * 1000);
    return { "svix-id": eventId, "svix-timestamp": String(ts.getTime() / 1000), "svix-signature": new Webhook(secret).sign(eventId, ts, body) };
  },
  admin: authAdmin,
};
