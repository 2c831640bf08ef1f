// Passwords of the auth clone: Clerk's checks (length, breached) and a synchronous hash.
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, fromBase64 } from "../../lib/crypto.ts";
import { formError, invalidParam } from "./errors.ts";

/**
 * PBKDF2-HMAC-SHA256, 500 rounds, 16-byte random salt: synchronous (it runs inside the request's
 * transaction) and about 1 ms, so `createUser` stays within its budget. These are test users'
 * passwords in a throwaway world; the hash keeps them out of snapshots in clear, nothing more.
 */
const ROUNDS = 500;
const enc = new TextEncoder();

export function hashPassword(password: string): string {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2_sha256$${ROUNDS}$${base64(salt)}$${base64(pbkdf2(sha256, enc.encode(password), salt, { c: ROUNDS, dkLen: 32 }))}`;
}

export function checkPassword(password: string, stored: string): boolean {
  const [alg, rounds, salt, hash] = stored.split("$");
  if (alg !== "pbkdf2_sha256") return false;
  const got = base64(pbkdf2(sha256, enc.encode(password), fromBase64(salt), { c: Number(rounds), dkLen: 32 }));
  return got.length === hash.length && crypto.subtle.timingSafeEqual(enc.encode(got), enc.encode(hash));
}

// Clerk rejects passwords found in breaches (HaveIBeenPwned); a few of the most common stand in.
const PWNED = new Set(["password", "password1", "password123", "12345678", "123456789", "1234567890", "qwerty123", "qwertyuiop", "iloveyou", "11111111", "abc12345", "letmein1", "welcome1", "football", "baseball", "sunshine", "princess", "trustno1", "passw0rd", "admin123"]);

export function validatePassword(password: unknown, skipChecks: boolean): string {
  if (typeof password !== "string") throw invalidParam("password", "password must be a string.");
  if (skipChecks) return password;
  if (password.length < 8) throw formError("form_password_length_too_short", "password", "Passwords must be 8 characters or more.");
  if (password.length > 72) throw formError("form_password_length_too_long", "password", "Passwords must be less than 72 characters.");
  if (PWNED.has(password.toLowerCase())) {
    throw formError(
      "form_password_pwned",
      "password",
      "Password has been found in an online data breach. For account safety, please use a different password.",
    );
  }
  return password;
}

