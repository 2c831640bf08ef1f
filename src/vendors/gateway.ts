import type { AppEnv } from "../env.ts";
import type { Kind } from "../kernel/types.ts";
import { VENDORS } from "./index.ts";

/**
 * Vendor traffic: the credentials name the world; the world checks them. No lookup, no control
 * object on the hot path. Requests without a readable credential never reach any object.
 */
export function vendorFetch(kind: Kind, req: Request, env: AppEnv): Promise<Response> | Response {
  const plugin = VENDORS[kind];
  const worldId = plugin.worldIdOf(req);
  if (!worldId) {
    const missing = !req.headers.has("authorization") && !new URL(req.url).searchParams.has("X-Amz-Credential");
    return plugin.errors.unauthorized(missing);
  }
  return env.RUN.get(env.RUN.idFromName(worldId)).vendor(kind, req);
}
