// Domains, API keys and webhooks of the email clone: as far as an app touches them.
import { desc, eq } from "drizzle-orm";
import type { Kernel } from "../../kernel/types.ts";
import { randomBase62, sha256HexSync } from "../../lib/crypto.ts";
import { apiKeys, domains } from "./schema.ts";
import { ResendError, invalid, missingField, notFound } from "./errors.ts";
import { resendTime } from "./format.ts";

const REGIONS = ["us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"];
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
export const DOMAIN_VERIFY_MS = 5_000;

type DomainRow = typeof domains.$inferSelect;
export type { AttachmentMeta as AttachmentJson } from "./domain.ts";

function records(d: DomainRow) {
  const st = d.status === "verified" ? "verified" : d.status === "pending" ? "pending" : "not_started";
  return [
    { record: "SPF", name: "send", type: "MX", ttl: "Auto", status: st, value: `feedback-smtp.${d.region}.amazonses.com`, priority: 10 },
    { record: "SPF", name: "send", type: "TXT", ttl: "Auto", status: st, value: '"v=spf1 include:amazonses.com ~all"' },
    { record: "DKIM", name: "resend._domainkey", type: "TXT", ttl: "Auto", status: st, value: `p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ${d.id.replaceAll("-", "")}` },
  ];
}

export function domainJson(d: DomainRow, full = true) {
  const base = {
    object: "domain",
    id: d.id,
    name: d.name,
    status: d.status,
    created_at: resendTime(d.createdAt),
    region: d.region,
    open_tracking: d.openTracking,
    click_tracking: d.clickTracking,
    capabilities: { sending: "enabled", receiving: "disabled" },
  };
  return full ? { ...base, records: records(d) } : base;
}

function domainRow(k: Kernel, id: string): DomainRow {
  const d = k.db.select().from(domains).where(eq(domains.id, id)).get();
  if (!d) throw notFound("Domain");
  return d;
}

export function createDomain(k: Kernel, b: Record<string, unknown>) {
  if (b.name === undefined || b.name === null) throw missingField("name");
  if (typeof b.name !== "string" || !DOMAIN.test(b.name)) throw invalid("Invalid `name` field. It must be a valid domain name.");
  const region = b.region ?? "us-east-1";
  if (typeof region !== "string" || !REGIONS.includes(region)) throw invalid(`Invalid \`region\` field. Use one of ${REGIONS.join(", ")}.`);
  const name = b.name.toLowerCase();
  if (k.db.select({ id: domains.id }).from(domains).where(eq(domains.name, name)).get()) {
    throw new ResendError(403, "validation_error", `The domain ${name} has already been registered.`);
  }
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM email_domains").one().v);
  const row: DomainRow = {
    id: k.ids.uuid("domain"),
    seq,
    name,
    status: "not_started",
    region,
    openTracking: b.open_tracking === true,
    clickTracking: b.click_tracking === true,
    createdAt: k.clock.now(),
  };
  k.db.insert(domains).values(row).run();
  const { object: _o, ...rest } = domainJson(row);
  return rest;
}

export const getDomain = (k: Kernel, id: string) => domainJson(domainRow(k, id));

export function listDomains(k: Kernel) {
  return { object: "list", has_more: false, data: k.db.select().from(domains).orderBy(desc(domains.seq)).all().map((d) => domainJson(d, false)) };
}

/** Verification "checks DNS": pending now, verified a few seconds later on the run clock. */
export function verifyDomain(k: Kernel, id: string) {
  const d = domainRow(k, id);
  if (d.status !== "verified") {
    k.db.update(domains).set({ status: "pending" }).where(eq(domains.id, id)).run();
    k.jobs.cancel("email.domain_verify", id);
    k.jobs.schedule("email", "email.domain_verify", k.clock.now() + DOMAIN_VERIFY_MS, {}, id);
  }
  return { object: "domain", id };
}

export function updateDomain(k: Kernel, id: string, b: Record<string, unknown>) {
  domainRow(k, id);
  const set: Partial<DomainRow> = {};
  for (const [f, col] of [["open_tracking", "openTracking"], ["click_tracking", "clickTracking"]] as const) {
    if (b[f] === undefined) continue;
    if (typeof b[f] !== "boolean") throw invalid(`Invalid \`${f}\` field. It must be a boolean.`);
    set[col] = b[f] as boolean;
  }
  if (b.tls !== undefined && b.tls !== "enforced" && b.tls !== "opportunistic") throw invalid("Invalid `tls` field. Use `enforced` or `opportunistic`.");
  if (Object.keys(set).length) k.db.update(domains).set(set).where(eq(domains.id, id)).run();
  return { object: "domain", id };
}

export function deleteDomain(k: Kernel, id: string) {
  domainRow(k, id);
  k.db.delete(domains).where(eq(domains.id, id)).run();
  k.jobs.cancel("email.domain_verify", id);
  return { object: "domain", id, deleted: true };
}

/** API keys minted here authenticate against this world like its own key. */
export function createApiKey(k: Kernel, b: Record<string, unknown>) {
  if (b.name === undefined || b.name === null) throw missingField("name");
  if (typeof b.name !== "string" || b.name.length === 0 || b.name.length > 50) throw invalid("Invalid `name` field. It must be 1 to 50 characters.");
  const permission = b.permission ?? "full_access";
  if (permission !== "full_access" && permission !== "sending_access") throw invalid("Invalid `permission` field. Use `full_access` or `sending_access`.");
  if (b.domain_id !== undefined && (typeof b.domain_id !== "string" || !k.db.select().from(domains).where(eq(domains.id, b.domain_id)).get())) {
    throw notFound("Domain");
  }
  const token = `re_${k.world().worldId}_${randomBase62(24)}`;
  const id = k.ids.uuid("api_key");
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM email_api_keys").one().v);
  k.db.insert(apiKeys).values({
    id, seq, name: b.name, permission, domainId: (b.domain_id as string | undefined) ?? null, tokenHash: sha256HexSync(token), createdAt: k.clock.now(),
  }).run();
  return { id, token };
}

export function listApiKeys(k: Kernel) {
  return {
    object: "list",
    has_more: false,
    data: k.db.select().from(apiKeys).orderBy(desc(apiKeys.seq)).all().map((a) => ({
      id: a.id,
      name: a.name,
      created_at: resendTime(a.createdAt),
      last_used_at: a.lastUsedAt === null ? null : resendTime(a.lastUsedAt),
    })),
  };
}

export function deleteApiKey(k: Kernel, id: string) {
  if (!k.db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, id)).get()) throw notFound("API key");
  k.db.delete(apiKeys).where(eq(apiKeys.id, id)).run();
  return { object: "api_key", id, deleted: true };
}

/** An extra key minted through the API, by hash; the world's own key is checked by the platform. */
export function apiKeyMatches(k: Kernel, token: string): boolean {
  const hash = sha256HexSync(token);
  const row = k.sql.exec<{ id: string }>("SELECT id FROM email_api_keys WHERE token_hash = ?", hash).toArray()[0];
  return !!row;
}

export const WEBHOOK_EVENTS = [
  "email.sent", "email.delivered", "email.delivery_delayed", "email.bounced", "email.complained", "email.opened", "email.clicked",
  "email.failed", "email.scheduled", "email.suppressed", "email.received", "contact.created", "contact.updated", "contact.deleted",
  "domain.created", "domain.updated", "domain.deleted",
];

export function validateEvents(events: unknown): string[] {
  if (!Array.isArray(events) || events.length === 0) throw invalid("Invalid `events` field. It must be a non-empty array of event types.");
  for (const e of events) if (typeof e !== "string" || !WEBHOOK_EVENTS.includes(e)) throw invalid(`Invalid event type ${JSON.stringify(e)}.`);
  return events as string[];
}

export function validateUrl(url: unknown, field: string): string {
  if (typeof url !== "string") throw missingField(field);
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return url;
  } catch {
    throw invalid(`Invalid \`${field}\` field. It must be an http(s) URL.`);
  }
}
