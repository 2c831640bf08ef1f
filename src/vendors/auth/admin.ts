// Admin shortcuts of the auth clone, served at {adminUrl}/auth/...: sign a user in without the
// Frontend API, for browser tests of the app under test.
import { Hono } from "hono";
import type { Kernel } from "../../kernel/types.ts";
import { ApiError, jsonObject } from "../../lib/http-error.ts";
import { ClerkError } from "./errors.ts";
import { sign } from "./jwt.ts";
import { createSession, getSessionRow, sessionClaims } from "./sessions.ts";
import { setActiveOrg } from "./orgs.ts";
import { sessionCookies } from "./page.ts";

const optStr = (v: unknown, field: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v === "") throw new ApiError(422, "invalid_field", `\`${field}\` must be a non-empty string.`);
  return v;
};

/** Runs domain work in one transaction; a Clerk error becomes the admin API's shape with Clerk's code. */
function tx<T>(k: Kernel, fn: () => T): T {
  try {
    return k.tx(fn);
  } catch (err) {
    if (err instanceof ClerkError) throw new ApiError(err.status, err.code, err.message);
    throw err;
  }
}

export function authAdmin(k: Kernel): Hono {
  const app = new Hono();

  /**
   * `POST /auth/session_token` `{ userId, organizationId?, origin?, sessionId? }`: a fresh session for
   * the user (or the given one), and a 60 s session token for it, ready for a `__session` cookie or
   * an `Authorization: Bearer` header.
   */
  app.post("/session_token", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    const userId = optStr(b.userId ?? b.user_id, "userId");
    const sessionId = optStr(b.sessionId ?? b.session_id, "sessionId");
    const organizationId = optStr(b.organizationId ?? b.organization_id, "organizationId");
    const origin = optStr(b.origin, "origin");
    if (!userId && !sessionId) throw new ApiError(422, "invalid_field", "`userId` or `sessionId` is required.");
    const claims = tx(k, () => {
      const s = sessionId ? getSessionRow(k, sessionId) : createSession(k, userId, { organizationId, azp: origin });
      if (sessionId && organizationId) setActiveOrg(k, s.id, organizationId);
      return sessionClaims(k, s.id);
    });
    const token = await sign(k, claims);
    const cookies = sessionCookies(token, claims.iat as number);
    return c.json({
      sessionId: claims.sid,
      userId: claims.sub,
      token,
      expiresAt: new Date((claims.exp as number) * 1000).toISOString(),
      cookie: `__session=${token}`,
      cookies,
      cookieHeader: Object.entries(cookies).map(([n, v]) => `${n}=${v}`).join("; "),
    });
  });

  return app;
}
