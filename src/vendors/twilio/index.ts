import { unbuiltVendor } from "../unbuilt.ts";
import { basic, isWorldId } from "../credentials.ts";
import { randomHex, safeEqual } from "../../lib/crypto.ts";
import { twilioErrors } from "./errors.ts";

export const twilio = unbuiltVendor({
  kind: "twilio",
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
  presets: {
    invalid_number: { description: "Message creates fail with 21211", method: "POST", path: "/2010-04-01/Accounts/*/Messages.json", status: 400 },
    verify_expired: { description: "Verification checks find the verification expired" },
    status_callback_fail: { description: "Status callbacks report undelivered" },
  },
});
