import { unbuiltVendor } from "../unbuilt.ts";
import { bearer, worldAt } from "../credentials.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import { clerkErrors } from "./errors.ts";

export const auth = unbuiltVendor({
  kind: "auth",
  errors: clerkErrors,
  worldIdOf: (req) => worldAt(bearer(req), "sk_test_"),
  mintCredentials: async (w) => ({
    secretKey: `sk_test_${w}${randomBase62(24)}`,
    // Clerk derives the Frontend API host from the publishable key: base64("<host>$").
    publishableKey: `pk_test_${btoa(`clerk.${w}.molar.localhost$`)}`,
  }),
  authenticate: (req, creds) => safeEqual(bearer(req) ?? "", creds.secretKey),
  presets: {
    session_expired: { description: "Session calls answer 401 session_expired", path: "/v1/sessions/**", status: 401 },
    otp_rejected: { description: "Verification attempts are rejected", status: 422, path: "/v1/**/attempt_verification" },
  },
});
