// Org-private presets: a run's world saved as a seed. The snapshot bundle is copied to R2 under
// the org (so it outlives the run); its chaos rules travel in it (they are world state) and are
// listed beside it. Spawning with `seed: "org:<name>"` branches a new world from it. Exported and
// imported as one JSON document for air-gapped use.
import { KINDS, type Kind } from "../kernel/types.ts";

export const PRESET_FORMAT = "molar-preset";
export const MAX_PRESET_BYTES = 100 * 1024 * 1024;

export interface PresetError {
  error: { status: number; code: string; message: string };
}
const fail = (status: number, code: string, message: string): PresetError => ({ error: { status, code, message } });

type Raw = { name: string; description: string; kinds: string; chaos: string; bundle_key: string; bytes: number; source: string | null; created_at: number };

export interface PresetInfo {
  name: string;
  seed: string;
  description: string;
  kinds: Kind[];
  chaos: Record<string, unknown>[];
  bytes: number;
  source: string | null;
  createdAt: string;
}

/** A chaos rule as it is saved: what it does, not its id or how often it fired. */
export function portableRule(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["kind", "method", "path", "status", "latencyMs", "rate", "times", "preset"]) if (r[k] !== undefined && r[k] !== null) out[k] = r[k];
  return out;
}

const show = (r: Raw): PresetInfo => ({
  name: r.name, seed: `org:${r.name}`, description: r.description, kinds: JSON.parse(r.kinds), chaos: JSON.parse(r.chaos), bytes: r.bytes, source: r.source,
  createdAt: new Date(r.created_at).toISOString(),
});

export class Presets {
  private readonly sql: SqlStorage;
  private readonly bucket: R2Bucket;
  private readonly org: () => string;
  constructor(sql: SqlStorage, bucket: R2Bucket, org: () => string) {
    this.sql = sql;
    this.bucket = bucket;
    this.org = org;
  }

  static validName(name: unknown): name is string {
    return typeof name === "string" && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(name);
  }

  row(name: string): Raw | null {
    return this.sql.exec<Raw>("SELECT * FROM ctl_presets WHERE name = ?", name).toArray()[0] ?? null;
  }

  list(): PresetInfo[] {
    return this.sql.exec<Raw>("SELECT * FROM ctl_presets ORDER BY name").toArray().map(show);
  }

  get(name: string): PresetInfo | PresetError {
    const r = this.row(name);
    return r ? show(r) : fail(404, "preset_not_found", `No preset ${name}.`);
  }

  /** Stores a bundle under the org and records the preset (replacing one of that name). */
  async save(input: { name: unknown; description?: unknown; kinds: unknown; chaos: unknown; source?: string | null }, bundle: Uint8Array): Promise<PresetInfo | PresetError> {
    if (!Presets.validName(input.name)) return fail(422, "invalid_name", "`name` must match [a-z0-9][a-z0-9._-]{0,63}.");
    const kinds = Array.isArray(input.kinds) ? input.kinds.filter((k): k is Kind => KINDS.includes(k as Kind)) : [];
    if (!kinds.length) return fail(422, "invalid_kinds", "`kinds` must name at least one clone.");
    const chaos = Array.isArray(input.chaos) ? input.chaos.filter((r) => r && typeof r === "object").map((r) => portableRule(r as Record<string, unknown>)) : [];
    if (bundle.byteLength < 2 || bundle[0] !== 0x1f || bundle[1] !== 0x8b) return fail(422, "invalid_bundle", "The bundle is not a snapshot bundle (gzip).");
    if (bundle.byteLength > MAX_PRESET_BYTES) return fail(413, "too_large", `Preset bundles are capped at ${MAX_PRESET_BYTES} bytes.`);
    const key = `presets/${this.org()}/${input.name}.bundle`;
    await this.bucket.put(key, bundle);
    const description = typeof input.description === "string" ? input.description.slice(0, 500) : "";
    this.sql.exec(
      "INSERT OR REPLACE INTO ctl_presets (name, description, kinds, chaos, bundle_key, bytes, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      input.name, description, JSON.stringify(kinds), JSON.stringify(chaos), key, bundle.byteLength, input.source ?? null, Date.now(),
    );
    return show(this.row(input.name)!);
  }

  async remove(name: string): Promise<{ name: string; deleted: true } | PresetError> {
    const r = this.row(name);
    if (!r) return fail(404, "preset_not_found", `No preset ${name}.`);
    await this.bucket.delete(r.bundle_key);
    this.sql.exec("DELETE FROM ctl_presets WHERE name = ?", name);
    return { name, deleted: true };
  }

  /** The preset as one portable JSON document (its bundle base64). */
  async exportJson(name: string): Promise<Record<string, unknown> | PresetError> {
    const r = this.row(name);
    if (!r) return fail(404, "preset_not_found", `No preset ${name}.`);
    const obj = await this.bucket.get(r.bundle_key);
    if (!obj) return fail(410, "bundle_gone", `The bundle of preset ${name} is gone from storage.`);
    const bytes = new Uint8Array(await obj.arrayBuffer());
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const p = show(r);
    return { format: PRESET_FORMAT, version: 1, name: p.name, description: p.description, kinds: p.kinds, chaos: p.chaos, bundle: btoa(bin) };
  }

  async importJson(doc: Record<string, unknown>): Promise<PresetInfo | PresetError> {
    if (doc.format !== PRESET_FORMAT || doc.version !== 1) return fail(422, "invalid_preset", `Not a preset document (format "${PRESET_FORMAT}", version 1).`);
    if (typeof doc.bundle !== "string") return fail(422, "invalid_preset", "`bundle` (base64) is missing.");
    let bytes: Uint8Array;
    try {
      const bin = atob(doc.bundle);
      bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    } catch {
      return fail(422, "invalid_preset", "`bundle` is not base64.");
    }
    return this.save({ name: doc.name, description: doc.description, kinds: doc.kinds, chaos: doc.chaos, source: "import" }, bytes);
  }
}
