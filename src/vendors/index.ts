import type { Kind, VendorPlugin } from "../kernel/types.ts";
import { stripe } from "./stripe/index.ts";
import { twilio } from "./twilio/index.ts";
import { email } from "./email/index.ts";
import { auth } from "./auth/index.ts";
import { s3 } from "./s3/index.ts";

/** Every vendor plug-in, by kind. */
export const VENDORS: Record<Kind, VendorPlugin> = { stripe, twilio, email, auth, s3 };
