import type { AppEnv } from "../env.ts";
import { KINDS, type Urls } from "../kernel/types.ts";

/**
 * Public base URLs: MOLAR_URLS (set by `npm start` from its ports), else https://<host> from
 * MOLAR_VENDOR_HOSTS on Cloudflare, else the control origin for everything.
 */
let memo: { src: string; urls: Urls } | null = null;

export function urlsOf(env: AppEnv, requestUrl: string): Urls {
  if (env.MOLAR_URLS) {
    if (memo?.src !== env.MOLAR_URLS) {
      const u = JSON.parse(env.MOLAR_URLS) as Partial<Urls>;
      const origin = u.control ?? new URL(requestUrl).origin;
      memo = { src: env.MOLAR_URLS, urls: { control: origin, stripe: u.stripe ?? origin, twilio: u.twilio ?? origin, email: u.email ?? origin, auth: u.auth ?? origin, s3: u.s3 ?? origin, ...(u.admin ? { admin: u.admin } : {}) } };
    }
    return memo.urls;
  }
  const origin = new URL(requestUrl).origin;
  const hosts = env.MOLAR_VENDOR_HOSTS ? (JSON.parse(env.MOLAR_VENDOR_HOSTS) as Partial<Record<string, string>>) : {};
  const urls = { control: origin } as Urls;
  for (const k of KINDS) urls[k] = hosts[k] ? `https://${hosts[k]}` : origin;
  return urls;
}
