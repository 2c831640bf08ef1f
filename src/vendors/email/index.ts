import { Webhook } from "standardwebhooks";
import type { Kernel, VendorPlugin } from "../../kernel/types.ts";
import { SVIX_RETRIES } from "../../kernel/outbox.ts";
import { bearer, isWorldId } from "../credentials.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import { resendErrors } from "./errors.ts";
import { emailRouter, emailUnmatched } from "./routes.ts";
import { emailJobs } from "./domain.ts";
import { apiKeyMatches } from "./resources.ts";
import { broadcastJobs } from "./broadcasts.ts";
import migrations from "../../../migrations/email/migrations.js";

/** The email clone: Resend's API, svix-signed webhooks, delivery on the run clock. */
export const email: VendorPlugin = {
  kind: "email",
  migrations,
  tables: [
    { name: "email_emails", type: "email", idColumn: "id" },
    { name: "email_domains", type: "domain", idColumn: "id" },
    { name: "email_api_keys", type: "api_key", idColumn: "id" },
    { name: "email_contacts", type: "contact", idColumn: "id" },
    { name: "email_segments", type: "segment", idColumn: "id" },
    { name: "email_contact_segments" },
    { name: "email_templates", type: "template", idColumn: "id" },
    { name: "email_broadcasts", type: "broadcast", idColumn: "id" },
  ],
  maxBodyBytes: 40 * 1024 * 1024,
  errors: resendErrors,
  worldIdOf(req) {
    const m = /^re_([0-9a-f]{32})_/.exec(bearer(req) ?? "");
    return m && isWorldId(m[1]) ? m[1] : null;
  },
  mintCredentials: async (w) => ({ apiKey: `re_${w}_${randomBase62(24)}` }),
  authenticate(req, creds, k: Kernel) {
    const key = bearer(req) ?? "";
    return safeEqual(key, creds.apiKey) || apiKeyMatches(k, key);
  },
  router: emailRouter,
  unmatched: emailUnmatched,
  jobs: (k) => ({ ...emailJobs(k), ...broadcastJobs(k) }) as ReturnType<VendorPlugin["jobs"]>,
  presets: {
    bounce: { description: "Sends bounce (email.bounced) whatever the recipient" },
    spamtrap: { description: "Sends are delivered, then marked as spam (email.complained)" },
    delivery_delay: { description: "Delivery is delayed an hour (email.delivery_delayed first)" },
  },
  retrySchedule: SVIX_RETRIES,
  async sign({ eventId, body, secret, wallNowMs }) {
    const ts = new Date(Math.floor(wallNowMs / 1000) * 1000);
    return { "svix-id": eventId, "svix-timestamp": String(ts.getTime() / 1000), "svix-signature": new Webhook(secret).sign(eventId, ts, body) };
  },
};
