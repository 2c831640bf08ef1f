// Dashboard login: the org API key, once, for a signed HttpOnly, SameSite=Strict cookie naming
// the org. Mutating forms carry a CSRF token derived from the session (and SameSite=Strict keeps
// other sites' forms out in the first place).
import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import type { AppEnv } from "../env.ts";
import { hex, safeEqual } from "../lib/crypto.ts";

export const COOKIE = "molar_session";
const LIFETIME_S = 12 * 3600;

async function hmac(env: AppEnv, text: string): Promise<string> {
  const secret = env.MOLAR_JWT_SECRET;
  if (!secret) throw new Error("MOLAR_JWT_SECRET is not set");
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(`dashboard:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
}

export interface DashSession {
  org: string;
  csrf: string;
}

export async function startSession<E extends { Bindings: AppEnv }>(c: Context<E>, org: string): Promise<void> {
  const exp = Math.floor(Date.now() / 1000) + LIFETIME_S;
  const body = `${org}.${exp}`;
  setCookie(c, COOKIE, `${body}.${await hmac(c.env as AppEnv, body)}`, {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: LIFETIME_S,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, COOKIE, { path: "/" });
}

/** The signed-in org, or null (no cookie, forged, or expired). */
export async function readSession<E extends { Bindings: AppEnv }>(c: Context<E>): Promise<DashSession | null> {
  const v = getCookie(c, COOKIE);
  const m = v && /^([A-Za-z0-9._-]{1,64})\.(\d{1,12})\.([0-9a-f]{64})$/.exec(v);
  if (!m) return null;
  const body = `${m[1]}.${m[2]}`;
  if (!safeEqual(m[3], await hmac(c.env as AppEnv, body)) || Number(m[2]) * 1000 < Date.now()) return null;
  return { org: m[1], csrf: (await hmac(c.env as AppEnv, `csrf:${body}`)).slice(0, 32) };
}

export const csrfOk = (s: DashSession, token: unknown) => typeof token === "string" && safeEqual(token, s.csrf);
