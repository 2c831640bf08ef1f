import { unbuiltVendor } from "../unbuilt.ts";
import { bearer, basic, worldAt } from "../credentials.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import { stripeErrors } from "./errors.ts";

function keyOf(req: Request): string | null {
  return bearer(req) ?? basic(req)?.user ?? null;
}

export const stripe = unbuiltVendor({
  kind: "stripe",
  errors: stripeErrors,
  worldIdOf: (req) => worldAt(keyOf(req), "sk_test_"),
  mintCredentials: async (w) => ({ secretKey: `sk_test_${w}${randomBase62(24)}`, publishableKey: `pk_test_${w}${randomBase62(24)}` }),
  authenticate: (req, creds) => safeEqual(keyOf(req) ?? "", creds.secretKey),
  presets: {
    card_declined: { description: "Charges and confirmations fail with card_declined", method: "POST", path: "/v1/**", status: 402 },
    rate_limit: { description: "Requests answer 429 rate_limit", status: 429 },
    idempotency_conflict: { description: "POSTs answer 400 idempotency_error", method: "POST", status: 400 },
    webhook_delay: { description: "Webhook deliveries are held back" },
  },
});
