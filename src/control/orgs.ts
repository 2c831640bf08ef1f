import type { AppEnv } from "../env.ts";
import type { Quotas } from "../kernel/types.ts";
import { sha256Hex } from "../lib/crypto.ts";

interface OrgConfig {
  org: string;
  quotas: Quotas;
  /** Keys from the environment are admin; keys the org made may be read-only (GET calls). */
  scope: "admin" | "read";
}

let memo: { src: string; byHash: Map<string, OrgConfig> } | null = null;

function positive(v: unknown, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Default quotas, settable by env (documented in the README). */
export function defaultQuotas(env: AppEnv): Quotas {
  return {
    concurrentRuns: positive(env.MOLAR_QUOTA_CONCURRENT_RUNS, 100),
    requestsPerMinute: positive(env.MOLAR_QUOTA_REQUESTS_PER_MINUTE, 120_000),
    storedBytes: positive(env.MOLAR_QUOTA_STORED_BYTES, 512 * 1024 * 1024),
  };
}

/**
 * Org API keys: MOLAR_CLONES_API_TOKEN and the dev key name org `default`; MOLAR_CLONES_ORGS adds
 * more, each with optional quota overrides. Keys are compared by SHA-256, never as plain text.
 */
async function table(env: AppEnv): Promise<Map<string, OrgConfig>> {
  const src = JSON.stringify([env.MOLAR_CLONES_API_TOKEN, env.MOLAR_CLONES_DEV_KEY, env.MOLAR_CLONES_ORGS, env.MOLAR_QUOTA_CONCURRENT_RUNS, env.MOLAR_QUOTA_REQUESTS_PER_MINUTE, env.MOLAR_QUOTA_STORED_BYTES]);
  if (memo?.src === src) return memo.byHash;
  const base = defaultQuotas(env);
  const byHash = new Map<string, OrgConfig>();
  for (const k of [env.MOLAR_CLONES_API_TOKEN, env.MOLAR_CLONES_DEV_KEY]) if (k) byHash.set(await sha256Hex(k), { org: "default", quotas: base, scope: "admin" });
  if (env.MOLAR_CLONES_ORGS) {
    const orgs = JSON.parse(env.MOLAR_CLONES_ORGS) as Record<string, { key: string } & Partial<Quotas>>;
    for (const [org, c] of Object.entries(orgs)) {
      if (!c?.key || !/^[A-Za-z0-9._-]{1,64}$/.test(org)) continue;
      byHash.set(await sha256Hex(c.key), {
        org,
        quotas: {
          concurrentRuns: positive(c.concurrentRuns, base.concurrentRuns),
          requestsPerMinute: positive(c.requestsPerMinute, base.requestsPerMinute),
          storedBytes: positive(c.storedBytes, base.storedBytes),
        },
        scope: "admin",
      });
    }
  }
  memo = { src, byHash };
  return byHash;
}

/** The quotas of an org by name (for callers that hold a session, not its key). */
export async function quotasOf(env: AppEnv, org: string): Promise<Quotas> {
  for (const c of (await table(env)).values()) if (c.org === org) return c.quotas;
  return defaultQuotas(env);
}

export async function orgForKey(env: AppEnv, key: string | null): Promise<OrgConfig | null> {
  if (!key) return null;
  const hash = await sha256Hex(key);
  const known = (await table(env)).get(hash);
  if (known) return known;
  // A key the org made names its org; only that org's control object can vouch for it.
  const m = /^mcko_([0-9a-f]{2,128})_[A-Za-z0-9]{32}$/.exec(key);
  if (!m) return null;
  const org = new TextDecoder().decode(new Uint8Array(m[1].match(/../g)!.map((h) => parseInt(h, 16))));
  const configured = [...(await table(env)).values()].find((c) => c.org === org);
  if (!configured) return null;
  const scope = await env.CONTROL.get(env.CONTROL.idFromName(org)).keyCheck(hash);
  return scope ? { org, quotas: configured.quotas, scope } : null;
}
