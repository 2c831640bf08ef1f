// The Worker: the control origin (control API, admin API, dashboard) as the default export, and
// one WorkerEntrypoint per vendor. Locally each entrypoint has its own port; on Cloudflare the
// default export dispatches vendor hostnames (MOLAR_VENDOR_HOSTS) to the same code.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { AppEnv } from "./env.ts";
import { controlRouter } from "./control/router.ts";
import { vendorFetch } from "./vendors/gateway.ts";
import { KINDS, type Kind } from "./kernel/types.ts";
import { dashboardRouter } from "./dashboard/router.tsx";

export { RunWorld } from "../durable-objects/run-world.ts";
export { Control } from "../durable-objects/control.ts";

const api = controlRouter();
const dashboard = dashboardRouter();
// The APIs own their prefixes; every other path of the control origin is the dashboard.
const API_PATH = /^\/(v1|admin|healthz|mcp|metrics)(\/|$)/;

let hostMap: { src: string; map: Map<string, Kind> } | null = null;
function vendorForHost(env: AppEnv, host: string): Kind | null {
  if (!env.MOLAR_VENDOR_HOSTS) return null;
  if (hostMap?.src !== env.MOLAR_VENDOR_HOSTS) {
    const parsed = JSON.parse(env.MOLAR_VENDOR_HOSTS) as Record<string, string>;
    hostMap = { src: env.MOLAR_VENDOR_HOSTS, map: new Map(KINDS.filter((k) => parsed[k]).map((k) => [parsed[k].toLowerCase(), k])) };
  }
  return hostMap.map.get(host.toLowerCase()) ?? null;
}

export default {
  fetch(req: Request, env: AppEnv, ctx: ExecutionContext) {
    const kind = vendorForHost(env, new URL(req.url).hostname);
    if (kind) return vendorFetch(kind, req, env);
    return API_PATH.test(new URL(req.url).pathname) ? api.fetch(req, env, ctx) : dashboard.fetch(req, env, ctx);
  },
} satisfies ExportedHandler<AppEnv>;

/** A vendor's WorkerEntrypoint: all it does is hand the request to the credential gateway. */
function entrypointFor(kind: Kind) {
  return class extends WorkerEntrypoint<AppEnv> {
    override fetch(req: Request) {
      return vendorFetch(kind, req, this.env);
    }
  };
}

export const StripeApi = entrypointFor("stripe");
export const TwilioApi = entrypointFor("twilio");
export const EmailApi = entrypointFor("email");
export const AuthApi = entrypointFor("auth");
export const S3Api = entrypointFor("s3");

/** Entrypoint class per vendor, for the local runner's per-port sockets. */
export const ENTRYPOINTS: Record<Kind, string> = { stripe: "StripeApi", twilio: "TwilioApi", email: "EmailApi", auth: "AuthApi", s3: "S3Api" };
