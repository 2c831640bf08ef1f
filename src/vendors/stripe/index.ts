import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { VendorPlugin } from "../../kernel/types.ts";
import { bearer, basic, isWorldId, worldAt } from "../credentials.ts";
import { hex, randomBase62, safeEqual } from "../../lib/crypto.ts";
import { stripeErrors } from "./errors.ts";
import { stripeRouter, stripeUnmatched } from "./routes.ts";
import { stripeAdmin } from "./admin.ts";
import { TABLES } from "./store.ts";
import { subscriptionJobs } from "./renewals.ts";
import { checkoutJobs } from "./checkout.ts";
import { invoicingJobs } from "./invoicing.ts";
import migrations from "../../../migrations/stripe/migrations.js";
import { disputeJobs } from "./disputes.ts";
import { payoutJobs } from "./payouts.ts";
import { scheduleJobs } from "./schedules.ts";

function keyOf(req: Request): string | null {
  return bearer(req) ?? basic(req)?.user ?? null;
}

const utf8 = new TextEncoder();

// The hosted checkout and portal pages are reached by a browser without a key, like checkout.stripe.com: its
// path names the world, and the session id in it is the capability.
const HOSTED = /^\/(?:c\/pay\/([0-9a-f]{32})\/cs_test_[A-Za-z0-9]+(?:\/(?:complete|cancel))?|p\/session\/([0-9a-f]{32})\/bps_[A-Za-z0-9]+(?:\/update)?|b\/([0-9a-f]{32})\/plink_[A-Za-z0-9]+)$/;
function hostedWorld(req: Request): string | null {
  const m = HOSTED.exec(new URL(req.url).pathname);
  const w = m ? (m[1] ?? m[2] ?? m[3]) : null;
  return isWorldId(w) ? w : null;
}

/** The Stripe clone: customers, payment methods and intents, charges, refunds, catalog, webhooks. */
export const stripe: VendorPlugin = {
  kind: "stripe",
  migrations,
  tables: [...Object.entries(TABLES).map(([type, name]) => ({ name, type, idColumn: "id" })), { name: "stripe_settings" }],
  maxBodyBytes: 1 << 20,
  errors: stripeErrors,
  worldIdOf: (req) => worldAt(keyOf(req), "sk_test_") ?? hostedWorld(req),
  mintCredentials: async (w) => ({ secretKey: `sk_test_${w}${randomBase62(24)}`, publishableKey: `pk_test_${w}${randomBase62(24)}` }),
  authenticate: (req, creds, k) => safeEqual(keyOf(req) ?? "", creds.secretKey) || (!req.headers.has("authorization") && hostedWorld(req) === k.world().worldId),
  router: stripeRouter,
  unmatched: stripeUnmatched,
  jobs: (k) => ({ ...subscriptionJobs(k), ...scheduleJobs(k), ...checkoutJobs(k), ...invoicingJobs(k), ...disputeJobs(k), ...payoutJobs(k) }),
  presets: {
    card_declined: { description: "The next confirmation declines with card_declined (generic_decline)" },
    rate_limit: { description: "Requests answer 429 rate_limit", status: 429 },
    idempotency_conflict: { description: "POSTs answer 400 idempotency_error", method: "POST", status: 400 },
    webhook_delay: { description: "Webhook deliveries are held back five minutes on the run clock" },
  },
  // Test mode retries a failed delivery a few times over some hours.
  retrySchedule: [3_600_000, 7_200_000, 14_400_000],
  // An endpoint gets a request's or a renewal's events in the order they happened.
  orderedDeliveries: true,
  async sign({ body, secret, wallNowMs }) {
    const t = Math.floor(wallNowMs / 1000);
    return { "stripe-signature": `t=${t},v1=${hex(hmac(sha256, utf8.encode(secret), utf8.encode(`${t}.${body}`)))}` };
  },
  admin: stripeAdmin,
};
