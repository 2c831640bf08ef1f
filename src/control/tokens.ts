import { SignJWT, jwtVerify } from "jose";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../lib/http-error.ts";

export const TOKEN_TTL_SECONDS = 3600;
const ISSUER = "molar-clones";
const AUDIENCE = "molar-admin";

export interface RunClaims {
  org: string;
  runId: string;
  worldId: string;
}

let cached: { secret: string; key: Promise<CryptoKey> } | null = null;
/** The HMAC key, imported once per isolate (jose would import raw bytes on every call). */
function key(env: AppEnv): Promise<CryptoKey> {
  const secret = env.MOLAR_JWT_SECRET;
  // Fail closed: without a signing secret no token can be minted or trusted.
  if (!secret || secret.length < 32) throw new ApiError(503, "misconfigured", "MOLAR_JWT_SECRET is not set (32+ characters); no run token can be minted or checked.");
  if (cached?.secret !== secret) {
    cached = { secret, key: crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) };
  }
  return cached.key;
}

/** A per-run admin token: HS256, 1 h, naming the org, the run and its world. */
export async function mintRunToken(env: AppEnv, c: RunClaims): Promise<string> {
  return new SignJWT({ org: c.org, wid: c.worldId, scope: "admin" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(c.runId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
    .sign(await key(env));
}

/** The claims of a valid run token, or null (bad signature, other algorithm, expired, malformed). */
export async function verifyRunToken(env: AppEnv, token: string): Promise<RunClaims | null> {
  try {
    const { payload } = await jwtVerify(token, await key(env), { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE });
    if (payload.scope !== "admin" || typeof payload.org !== "string" || typeof payload.wid !== "string" || typeof payload.sub !== "string") return null;
    return { org: payload.org, runId: payload.sub, worldId: payload.wid };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    return null;
  }
}

export const looksLikeJwt = (t: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t);
