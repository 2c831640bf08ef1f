// RS256 signing with the run's RSA-2048 key (minted at spawn), and the JWKS that verifies it.
import { SignJWT, importJWK, type JWTPayload } from "jose";
import type { Kernel } from "../../kernel/types.ts";
import { instanceId } from "./events.ts";

type PrivateJwk = JsonWebKey & { n: string; e: string };

function privateJwk(k: Kernel): PrivateJwk {
  const jwk = k.world().secrets?.auth?.privateJwk as PrivateJwk | undefined;
  if (!jwk) throw new Error("this run has no auth signing key");
  return jwk;
}

/** `GET /v1/jwks`: the public half of the run's key, `kid` = the instance id. */
export function jwks(k: Kernel) {
  const { n, e } = privateJwk(k);
  return { keys: [{ use: "sig", kty: "RSA", kid: instanceId(k), alg: "RS256", n, e }] };
}

// Importing a JWK costs more than signing with it: once per world per isolate.
const keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

/** Signs `claims` as Clerk does: RS256, `kid` = instance id, `typ` JWT. Wall-clock times are the caller's. */
export async function sign(k: Kernel, claims: JWTPayload): Promise<string> {
  const kid = instanceId(k);
  let key = keys.get(kid);
  if (!key) {
    if (keys.size >= 1000) keys.clear();
    key = importJWK(privateJwk(k), "RS256") as Promise<CryptoKey | Uint8Array>;
    keys.set(kid, key);
    key.catch(() => keys.delete(kid));
  }
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(await key);
}
