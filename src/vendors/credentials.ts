// Credentials carry their world: the Worker reads the world id out of them without a lookup, and
// the world itself checks the secret part. World ids are 32 lowercase hex characters.
const WORLD = /^[0-9a-f]{32}$/;

/**
 * The credential a vendor's `anonymous` hook found in a request's body, as the gateway hands it to
 * the world; the gateway drops any a client sent.
 */
export const CREDENTIAL_HEADER = "x-molar-credential";

export const isWorldId = (v: string | null | undefined): v is string => !!v && WORLD.test(v);

export function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1].trim() : null;
}

export function basic(req: Request): { user: string; pass: string } | null {
  const h = req.headers.get("authorization");
  const m = h && /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h.trim());
  if (!m) return null;
  try {
    const text = atob(m[1]);
    const i = text.indexOf(":");
    return i < 0 ? { user: text, pass: "" } : { user: text.slice(0, i), pass: text.slice(i + 1) };
  } catch {
    return null;
  }
}

/** The world id embedded at `offset` of a key such as `sk_test_<world><secret>`. */
export function worldAt(key: string | null, prefix: string): string | null {
  if (!key || !key.startsWith(prefix)) return null;
  const w = key.slice(prefix.length, prefix.length + 32);
  return isWorldId(w) ? w : null;
}
