import { base64 } from "./crypto.ts";

export interface RsaKey {
  privateJwk: JsonWebKey;
  publicPem: string;
}

/**
 * An RSA-2048 signing key with e=65537: what Clerk's `verifyToken({ jwtKey })` accepts (it strips a
 * fixed PEM prefix, so nothing else would parse). The public half is PEM (SPKI), the private half JWK.
 */
export async function generateRsaKey(): Promise<RsaKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const lines = base64(spki).match(/.{1,64}/g)!.join("\n");
  return { privateJwk, publicPem: `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----` };
}
