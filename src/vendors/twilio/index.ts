import type { VendorPlugin } from "../../kernel/types.ts";
import { basic, isWorldId } from "../credentials.ts";
import { randomHex, safeEqual } from "../../lib/crypto.ts";
import { twilioErrors } from "./errors.ts";
import { twilioRouter, twilioUnmatched } from "./routes.ts";
import { STEP_JOB, TICK_JOB, stepMessage, tick } from "./messages.ts";
import { EXPIRE_JOB, expireVerification } from "./verify.ts";
import { twilioAdmin } from "./inbound.ts";
import { twilioSignature } from "./format.ts";
import migrations from "../../../migrations/twilio/migrations.js";

/**
 * Retries of a failed status callback. Twilio retries callbacks only when asked to (connection
 * overrides, `#rc=`, up to 5 times); the clone always retries, on this schedule of the run clock.
 */
export const TWILIO_RETRIES = [5_000, 60_000, 600_000, 3_600_000, 14_400_000];

/** The Twilio clone: Messages, IncomingPhoneNumbers, Messaging Services, Verify v2, Lookup v2; signed callbacks on the run clock. */
export const twilio: VendorPlugin = {
  kind: "twilio",
  migrations,
  tables: [
    { name: "twilio_messages", type: "message", idColumn: "sid" },
    { name: "twilio_numbers", type: "incoming_phone_number", idColumn: "sid" },
    { name: "twilio_messaging_services", type: "messaging_service", idColumn: "sid" },
    { name: "twilio_verify_services", type: "verify_service", idColumn: "sid" },
    { name: "twilio_verifications", type: "verification", idColumn: "sid" },
    { name: "twilio_senders" },
  ],
  maxBodyBytes: 1 << 20,
  errors: twilioErrors,
  worldIdOf: (req) => {
    const sid = basic(req)?.user ?? "";
    const w = sid.startsWith("AC") ? sid.slice(2) : null;
    return isWorldId(w) ? w : null;
  },
  mintCredentials: async (w) => ({ accountSid: `AC${w}`, authToken: randomHex(16) }),
  authenticate: (req, creds) => {
    const b = basic(req);
    return !!b && safeEqual(b.user, creds.accountSid) && safeEqual(b.pass, creds.authToken);
  },
  router: twilioRouter,
  unmatched: twilioUnmatched,
  jobs: (k) => ({
    [TICK_JOB]: () => tick(k),
    [STEP_JOB]: (_p, job) => stepMessage(k, job.ref!),
    [EXPIRE_JOB]: (_p, job) => expireVerification(k, job.ref!),
  }),
  presets: {
    invalid_number: { description: "Message creates fail with 21211", method: "POST", path: "/2010-04-01/Accounts/*/Messages.json", status: 400 },
    verify_expired: { description: "Verification checks find the verification expired (20404)" },
    status_callback_fail: { description: "Messages end undelivered (30003); their status callbacks say so" },
  },
  retrySchedule: TWILIO_RETRIES,
  // The outbox keeps the auth token as the delivery's secret: Twilio signs with it.
  async sign({ url, body, secret }) {
    return { "x-twilio-signature": twilioSignature(secret, url, new URLSearchParams(body)), "user-agent": "TwilioProxy/1.1" };
  },
  admin: twilioAdmin,
};
