import { Hono } from "hono";
import type { Kind, VendorErrors, VendorPlugin, DeclaredTable, PresetDef, Kernel, VendorBindings } from "../kernel/types.ts";

/**
 * A vendor whose API is not built yet: its credentials route and authenticate, and every
 * operation answers the vendor's own 501 shape (logged like any request). Never a fake success.
 */
export function unbuiltVendor(spec: {
  kind: Kind;
  errors: VendorErrors;
  worldIdOf: (req: Request) => string | null;
  mintCredentials: (worldId: string) => Promise<Record<string, string>>;
  authenticate: (req: Request, creds: Record<string, string>, k: Kernel) => boolean | Promise<boolean>;
  presets: Record<string, PresetDef>;
  tables?: DeclaredTable[];
  maxBodyBytes?: number;
}): VendorPlugin {
  return {
    kind: spec.kind,
    tables: spec.tables ?? [],
    maxBodyBytes: spec.maxBodyBytes ?? 1 << 20,
    errors: spec.errors,
    worldIdOf: spec.worldIdOf,
    mintCredentials: spec.mintCredentials,
    authenticate: spec.authenticate,
    presets: spec.presets,
    jobs: () => ({}),
    router: () => new Hono<{ Bindings: VendorBindings }>(),
    unmatched: (method, path) => spec.errors.notImplemented(method, path),
  };
}
