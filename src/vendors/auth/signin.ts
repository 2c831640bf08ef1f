// Signing in without Clerk's Frontend API: password, one-time codes and password reset. Codes go
// to the run's inbox (email or SMS channel) unless the identifier is one of Clerk's test ones,
// which take 424242 and send nothing, as at Clerk. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import { ClerkError, formError, notFound } from "./errors.ts";
import { emitAuthEvent } from "./events.ts";
import { getUserRow, isTestIdentifier, normalizePhone, writeUser, type IdentifierRow, type UserRow } from "./users.ts";
import { checkPassword, hashPassword, validatePassword } from "./passwords.ts";

export const CODE_TTL_MS = 10 * 60_000;
const MAX_ATTEMPTS = 3;
export const TEST_CODE = "424242";

type Purpose = "sign_in" | "reset_password";
type VerificationRow = { id: string; user_id: string; identifier_id: string; purpose: Purpose; code: string; attempts: number; status: string; expires_at: number; created_at: number };

const notFoundAccount = () => formError("form_identifier_not_found", "identifier", "Couldn't find your account.");

/** The user an identifier names (email, phone or username) and, for codes, where to send them. */
function resolve(k: Kernel, identifier: string): { user: UserRow; ident: IdentifierRow | null } {
  const v = identifier.trim();
  let ident: IdentifierRow | undefined;
  if (v.includes("@")) {
    ident = k.sql.exec<IdentifierRow>("SELECT * FROM auth_identifiers WHERE type = 'email_address' AND value = ?", v.toLowerCase()).toArray()[0];
  } else if (/^\+?[\d\s()-]+$/.test(v)) {
    let phone: string | null = null;
    try {
      phone = normalizePhone(v.startsWith("+") ? v : `+${v}`);
    } catch {
      phone = null;
    }
    ident = phone ? k.sql.exec<IdentifierRow>("SELECT * FROM auth_identifiers WHERE type = 'phone_number' AND value = ?", phone).toArray()[0] : undefined;
  } else {
    const u = k.sql.exec<UserRow>("SELECT * FROM auth_users WHERE username = ?", v.toLowerCase()).toArray()[0];
    if (!u) throw notFoundAccount();
    const primary = u.primary_email_address_id ?? u.primary_phone_number_id;
    return { user: u, ident: primary ? (k.sql.exec<IdentifierRow>("SELECT * FROM auth_identifiers WHERE id = ?", primary).toArray()[0] ?? null) : null };
  }
  if (!ident) throw notFoundAccount();
  return { user: getUserRow(k, ident.user_id), ident };
}

/** Password sign-in: answers the user's id, or Clerk's refusal. */
export function passwordSignIn(k: Kernel, identifier: string, password: string): string {
  const { user } = resolve(k, identifier);
  if (user.password_hash === null) throw new ClerkError(422, "strategy_for_user_invalid", "Invalid verification strategy", "This user has no password; sign in with a code.");
  if (!checkPassword(password, user.password_hash)) throw formError("form_password_incorrect", "password", "Password is incorrect. Try again, or use another method.");
  return user.id;
}

/** Sends a one-time code to the identifier (its user's primary one for a username). */
export function sendCode(k: Kernel, identifier: string, purpose: Purpose): { verificationId: string; to: string; channel: "email" | "sms" } {
  const { user, ident } = resolve(k, identifier);
  if (!ident) throw new ClerkError(422, "strategy_for_user_invalid", "Invalid verification strategy", "This user has no email address or phone number to send a code to.");
  const test = isTestIdentifier(ident.type, ident.value);
  const code = test ? TEST_CODE : String(Math.floor(k.rng.float("auth.otp") * 1_000_000)).padStart(6, "0");
  const now = k.clock.now();
  const id = k.ids.make("ver_", 27);
  k.sql.exec(
    "INSERT INTO auth_verifications (id, user_id, identifier_id, purpose, code, attempts, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, 0, 'pending', ?, ?)",
    id, user.id, ident.id, purpose, code, now + CODE_TTL_MS, now,
  );
  const channel = ident.type === "email_address" ? "email" : "sms";
  if (!test) deliver(k, user, ident, code, purpose, id);
  return { verificationId: id, to: ident.value, channel };
}

function deliver(k: Kernel, user: UserRow, ident: IdentifierRow, code: string, purpose: Purpose, ref: string): void {
  const slug = purpose === "reset_password" ? "reset_password_code" : "verification_code";
  const subject = purpose === "reset_password" ? `${code} is your password reset code` : `${code} is your verification code`;
  const text = `${subject}. It expires in 10 minutes.`;
  const data = { otp_code: code, requested_at: k.clock.iso(), app: { name: "Molar Clones" } };
  if (ident.type === "email_address") {
    k.inbox.add({ kind: "auth", channel: "email", to: ident.value, from: "notifications@molar.localhost", subject, text, code, ref });
    emitAuthEvent(k, "email.created", {
      object: "email", id: k.ids.make("ema_", 27), slug, from_email_name: "notifications", reply_to_email_name: null, to_email_address: ident.value,
      email_address_id: ident.id, user_id: user.id, subject, body: `<p>${text}</p>`, body_plain: text, status: "queued", data, delivered_by_clerk: true,
    });
  } else {
    k.inbox.add({ kind: "auth", channel: "sms", to: ident.value, from: "+15005550006", text, code, ref });
    emitAuthEvent(k, "sms.created", {
      object: "sms_message", id: k.ids.make("sms_", 27), slug, from_phone_number: "+15005550006", to_phone_number: ident.value, phone_number_id: ident.id,
      user_id: user.id, message: text, status: "queued", data, delivered_by_clerk: true, created_at_ms: k.clock.now(),
    });
  }
}

/**
 * Checks a code. A wrong code counts an attempt and is answered as an error value, not thrown:
 * a throw would roll the count back. The `otp_rejected` preset refuses a right code.
 */
export function attemptCode(k: Kernel, verificationId: string, code: string, purpose: Purpose): { userId: string } | { error: ClerkError } {
  const v = k.sql.exec<VerificationRow>("SELECT * FROM auth_verifications WHERE id = ? AND purpose = ?", verificationId, purpose).toArray()[0];
  if (!v) throw notFound();
  if (v.status === "verified") return { error: new ClerkError(422, "verification_already_verified", "already verified", "This verification has already been verified.") };
  if (v.status === "failed") return { error: new ClerkError(422, "verification_failed", "failed", "Too many failed attempts. You have to try again with the same or another method.") };
  if (k.clock.now() >= v.expires_at) return { error: new ClerkError(422, "verification_expired", "expired", "This verification has expired. You must create a new one.") };
  const rejected = k.chaos.take("auth", "otp_rejected") !== null;
  if (rejected || code.trim() !== v.code) {
    const attempts = v.attempts + 1;
    k.sql.exec("UPDATE auth_verifications SET attempts = ?, status = ? WHERE id = ?", attempts, attempts >= MAX_ATTEMPTS ? "failed" : "pending", v.id);
    return { error: formError("form_code_incorrect", "code", "Incorrect code", "The verification code is incorrect.") };
  }
  k.sql.exec("UPDATE auth_verifications SET status = 'verified', attempts = attempts + 1 WHERE id = ?", v.id);
  k.sql.exec("UPDATE auth_identifiers SET verified = 1, updated_at = ? WHERE id = ? AND verified = 0", k.clock.now(), v.identifier_id);
  return { userId: v.user_id };
}

/** Sets a new password after a reset code; the user is then signed in, as at Clerk. */
export function resetPassword(k: Kernel, userId: string, password: string): void {
  const u = getUserRow(k, userId);
  writeUser(k, u, { password_hash: hashPassword(validatePassword(password, false)), password_updated_at: k.clock.now() });
}
