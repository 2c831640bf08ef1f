// Organizations and memberships of the auth clone, and the org claims of session tokens.
import type { Kernel } from "../../kernel/types.ts";
import { ClerkError, formError, invalidParam, notFound } from "./errors.ts";
import { emitAuthEvent } from "./events.ts";
import { deepMerge, getUserRow, identifiersOf, pageParams } from "./users.ts";
import type { SessionRow } from "./sessions.ts";

type Json = Record<string, unknown>;

export type OrgRow = {
  id: string;
  seq: number;
  name: string;
  slug: string;
  created_by: string | null;
  max_allowed_memberships: number;
  public_metadata: string;
  private_metadata: string;
  created_at: number;
  updated_at: number;
};

type MembershipRow = {
  id: string;
  seq: number;
  organization_id: string;
  user_id: string;
  role: string;
  public_metadata: string;
  private_metadata: string;
  created_at: number;
  updated_at: number;
};

/** Clerk's two default roles and the system permissions they carry. */
export const ROLES: Record<string, { name: string; permissions: string[] }> = {
  "org:admin": {
    name: "Admin",
    permissions: [
      "org:sys_profile:manage", "org:sys_profile:delete", "org:sys_memberships:read", "org:sys_memberships:manage", "org:sys_domains:read", "org:sys_domains:manage",
    ],
  },
  "org:member": { name: "Member", permissions: ["org:sys_memberships:read"] },
};

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const slugify = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "org";

function metadata(v: unknown, param: string): string {
  if (v === undefined || v === null) return "{}";
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(param, `${param} must be an object.`);
  return JSON.stringify(v);
}

const membersCount = (k: Kernel, id: string) => Number(k.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM auth_memberships WHERE organization_id = ?", id).one().n);

export function orgJson(k: Kernel, o: OrgRow): Json {
  return {
    object: "organization",
    id: o.id,
    name: o.name,
    slug: o.slug,
    image_url: "https://img.clerk.com/default-org",
    has_image: false,
    members_count: membersCount(k, o.id),
    pending_invitations_count: 0,
    max_allowed_memberships: o.max_allowed_memberships,
    admin_delete_enabled: true,
    public_metadata: JSON.parse(o.public_metadata),
    private_metadata: JSON.parse(o.private_metadata),
    created_by: o.created_by,
    created_at: o.created_at,
    updated_at: o.updated_at,
  };
}

export function getOrg(k: Kernel, idOrSlug: string): OrgRow {
  const o = k.sql.exec<OrgRow>("SELECT * FROM auth_organizations WHERE id = ?1 OR slug = ?1", idOrSlug).toArray()[0];
  if (!o) throw notFound();
  return o;
}

export function createOrg(k: Kernel, b: Json): OrgRow {
  if (typeof b.name !== "string" || b.name.trim() === "") throw formError("form_param_missing", "name", "missing data", "name must be included.");
  const slug = b.slug === undefined || b.slug === null ? slugify(b.name) : String(b.slug);
  if (!SLUG.test(slug)) throw invalidParam("slug", "slug can only contain lowercase alphanumeric characters and the '-' character.");
  if (k.sql.exec("SELECT 1 FROM auth_organizations WHERE slug = ?", slug).toArray().length) throw formError("form_identifier_exists", "slug", "That slug is taken. Please try another.");
  const createdBy = typeof b.created_by === "string" ? getUserRow(k, b.created_by).id : null;
  const now = k.clock.now();
  const id = k.ids.make("org_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_organizations").one().v);
  k.sql.exec(
    `INSERT INTO auth_organizations (id, seq, name, slug, created_by, max_allowed_memberships, public_metadata, private_metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id, seq, b.name.trim(), slug, createdBy, typeof b.max_allowed_memberships === "number" ? b.max_allowed_memberships : 0,
    metadata(b.public_metadata, "public_metadata"), metadata(b.private_metadata, "private_metadata"), now, now,
  );
  const org = getOrg(k, id);
  emitAuthEvent(k, "organization.created", orgJson(k, org));
  if (createdBy) addMember(k, id, createdBy, "org:admin");
  return getOrg(k, id);
}

export function updateOrg(k: Kernel, idOrSlug: string, b: Json, metadataMode: "merge" | "replace" | null): OrgRow {
  const o = getOrg(k, idOrSlug);
  const set: Record<string, unknown> = {};
  if (metadataMode === null) {
    if (typeof b.name === "string") set.name = b.name;
    if (typeof b.slug === "string") {
      if (!SLUG.test(b.slug)) throw invalidParam("slug", "slug can only contain lowercase alphanumeric characters and the '-' character.");
      if (k.sql.exec("SELECT 1 FROM auth_organizations WHERE slug = ? AND id <> ?", b.slug, o.id).toArray().length) throw formError("form_identifier_exists", "slug", "That slug is taken. Please try another.");
      set.slug = b.slug;
    }
    if (typeof b.max_allowed_memberships === "number") set.max_allowed_memberships = b.max_allowed_memberships;
  }
  for (const f of ["public_metadata", "private_metadata"] as const) {
    if (b[f] === undefined) continue;
    set[f] = metadataMode === "merge" && b[f] !== null ? JSON.stringify(deepMerge(JSON.parse(o[f]), b[f] as Json)) : metadata(b[f], f);
  }
  set.updated_at = k.clock.now();
  const cols = Object.keys(set);
  k.sql.exec(`UPDATE auth_organizations SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, ...cols.map((c) => set[c]), o.id);
  const row = getOrg(k, o.id);
  emitAuthEvent(k, "organization.updated", orgJson(k, row));
  return row;
}

export function deleteOrg(k: Kernel, idOrSlug: string): Json {
  const o = getOrg(k, idOrSlug);
  k.sql.exec("DELETE FROM auth_memberships WHERE organization_id = ?", o.id);
  k.sql.exec("DELETE FROM auth_organizations WHERE id = ?", o.id);
  k.sql.exec("UPDATE auth_sessions SET last_active_organization_id = NULL WHERE last_active_organization_id = ?", o.id);
  const deleted = { object: "organization", id: o.id, slug: o.slug, deleted: true };
  emitAuthEvent(k, "organization.deleted", deleted);
  return deleted;
}

export function listOrgs(k: Kernel, q: { limit?: string; offset?: string; query?: string }) {
  const { limit, offset } = pageParams(q);
  // instr, not LIKE: workerd refuses LIKE patterns over 50 bytes, and a query may be longer.
  const like = q.query ? q.query.toLowerCase() : null;
  const where = "WHERE (?1 IS NULL OR instr(lower(name), ?1) > 0 OR instr(lower(slug), ?1) > 0 OR id = ?2)";
  const total = Number(k.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM auth_organizations ${where}`, like, q.query ?? null).one().n);
  const rows = k.sql.exec<OrgRow>(`SELECT * FROM auth_organizations ${where} ORDER BY seq DESC LIMIT ?3 OFFSET ?4`, like, q.query ?? null, limit, offset).toArray();
  return { data: rows.map((o) => orgJson(k, o)), total_count: total };
}

// ---- memberships ---------------------------------------------------------------------------

function membershipJson(k: Kernel, m: MembershipRow): Json {
  const u = getUserRow(k, m.user_id);
  const primary = identifiersOf(k, u.id).find((i) => i.id === u.primary_email_address_id);
  const role = ROLES[m.role] ?? { name: m.role.replace(/^org:/, ""), permissions: [] };
  return {
    object: "organization_membership",
    id: m.id,
    role: m.role,
    role_name: role.name,
    permissions: role.permissions,
    public_metadata: JSON.parse(m.public_metadata),
    private_metadata: JSON.parse(m.private_metadata),
    organization: orgJson(k, getOrg(k, m.organization_id)),
    public_user_data: {
      user_id: u.id,
      first_name: u.first_name,
      last_name: u.last_name,
      image_url: `https://img.clerk.com/${btoa(JSON.stringify({ type: "default", src: u.id }))}`,
      profile_image_url: "https://www.gravatar.com/avatar?d=mp",
      has_image: false,
      identifier: primary?.value ?? u.username ?? "",
      username: u.username,
    },
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

export function role(v: unknown): string {
  if (typeof v !== "string" || v === "") throw formError("form_param_missing", "role", "missing data", "role must be included.");
  const r = v.startsWith("org:") ? v : `org:${v}`;
  if (!ROLES[r]) throw invalidParam("role", `role must be one of ${Object.keys(ROLES).join(", ")}.`);
  return r;
}

function getMembership(k: Kernel, orgId: string, userId: string): MembershipRow {
  const m = k.sql.exec<MembershipRow>("SELECT * FROM auth_memberships WHERE organization_id = ? AND user_id = ?", orgId, userId).toArray()[0];
  if (!m) throw notFound();
  return m;
}

export function addMember(k: Kernel, orgIdOrSlug: string, userId: unknown, roleName: unknown): Json {
  const o = getOrg(k, orgIdOrSlug);
  if (typeof userId !== "string") throw formError("form_param_missing", "user_id", "missing data", "user_id must be included.");
  getUserRow(k, userId);
  const r = role(roleName);
  if (k.sql.exec("SELECT 1 FROM auth_memberships WHERE organization_id = ? AND user_id = ?", o.id, userId).toArray().length) {
    throw new ClerkError(422, "already_a_member_in_organization", "already a member", "User is already a member of the organization.");
  }
  if (o.max_allowed_memberships > 0 && membersCount(k, o.id) >= o.max_allowed_memberships) {
    throw new ClerkError(403, "organization_membership_quota_exceeded", "Membership quota exceeded", "You have reached your limit of organization memberships.");
  }
  const now = k.clock.now();
  const id = k.ids.make("orgmem_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_memberships").one().v);
  k.sql.exec(
    "INSERT INTO auth_memberships (id, seq, organization_id, user_id, role, public_metadata, private_metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', '{}', ?, ?)",
    id, seq, o.id, userId, r, now, now,
  );
  const json = membershipJson(k, getMembership(k, o.id, userId));
  emitAuthEvent(k, "organizationMembership.created", json);
  return json;
}

export function updateMember(k: Kernel, orgIdOrSlug: string, userId: string, roleName: unknown): Json {
  const o = getOrg(k, orgIdOrSlug);
  const m = getMembership(k, o.id, userId);
  k.sql.exec("UPDATE auth_memberships SET role = ?, updated_at = ? WHERE id = ?", role(roleName), k.clock.now(), m.id);
  const json = membershipJson(k, getMembership(k, o.id, userId));
  emitAuthEvent(k, "organizationMembership.updated", json);
  return json;
}

/** `PATCH .../memberships/{user_id}/metadata`: merged like user metadata. */
export function updateMemberMetadata(k: Kernel, orgIdOrSlug: string, userId: string, b: Json): Json {
  const o = getOrg(k, orgIdOrSlug);
  const m = getMembership(k, o.id, userId);
  for (const f of ["public_metadata", "private_metadata"] as const) {
    const v = b[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(f, `${f} must be an object.`);
    k.sql.exec(`UPDATE auth_memberships SET ${f} = ?, updated_at = ? WHERE id = ?`, JSON.stringify(deepMerge(JSON.parse(m[f]), v as Json)), k.clock.now(), m.id);
  }
  const json = membershipJson(k, getMembership(k, o.id, userId));
  emitAuthEvent(k, "organizationMembership.updated", json);
  return json;
}

export function removeMember(k: Kernel, orgIdOrSlug: string, userId: string): Json {
  const o = getOrg(k, orgIdOrSlug);
  const json = membershipJson(k, getMembership(k, o.id, userId));
  k.sql.exec("DELETE FROM auth_memberships WHERE organization_id = ? AND user_id = ?", o.id, userId);
  k.sql.exec("UPDATE auth_sessions SET last_active_organization_id = NULL WHERE user_id = ? AND last_active_organization_id = ?", userId, o.id);
  emitAuthEvent(k, "organizationMembership.deleted", json);
  return json;
}

export function listMembers(k: Kernel, q: { organization_id?: string; user_id?: string; limit?: string; offset?: string }) {
  const { limit, offset } = pageParams(q);
  const where = "WHERE (?1 IS NULL OR organization_id = ?1) AND (?2 IS NULL OR user_id = ?2)";
  const total = Number(k.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM auth_memberships ${where}`, q.organization_id ?? null, q.user_id ?? null).one().n);
  const rows = k.sql
    .exec<MembershipRow>(`SELECT * FROM auth_memberships ${where} ORDER BY seq DESC LIMIT ?3 OFFSET ?4`, q.organization_id ?? null, q.user_id ?? null, limit, offset)
    .toArray();
  return { data: rows.map((m) => membershipJson(k, m)), total_count: total };
}

// ---- session token claims ------------------------------------------------------------------

function activeMembership(k: Kernel, s: SessionRow): { org: OrgRow; m: MembershipRow } | null {
  if (!s.last_active_organization_id) return null;
  const org = k.sql.exec<OrgRow>("SELECT * FROM auth_organizations WHERE id = ?", s.last_active_organization_id).toArray()[0];
  const m = org && k.sql.exec<MembershipRow>("SELECT * FROM auth_memberships WHERE organization_id = ? AND user_id = ?", org.id, s.user_id).toArray()[0];
  return org && m ? { org, m } : null;
}

/** The `o` claim of a v2 session token: id, slug, role without its `org:` prefix. */
export function activeOrgClaims(k: Kernel, s: SessionRow): Record<string, string> | null {
  const a = activeMembership(k, s);
  return a ? { id: a.org.id, rol: a.m.role.replace(/^org:/, ""), slg: a.org.slug } : null;
}

export function orgShortcodes(k: Kernel, s: SessionRow): Record<string, unknown> {
  const a = activeMembership(k, s);
  if (!a) return { org: null, org_membership: null };
  return {
    org: { id: a.org.id, name: a.org.name, slug: a.org.slug, role: a.m.role, public_metadata: JSON.parse(a.org.public_metadata) },
    org_membership: { public_metadata: JSON.parse(a.m.public_metadata) },
  };
}

/** Makes `orgId` the session's active organization (the Frontend API's `setActive`, for tests). */
export function setActiveOrg(k: Kernel, sessionId: string, orgId: string | null): void {
  if (orgId) {
    const s = k.sql.exec<SessionRow>("SELECT * FROM auth_sessions WHERE id = ?", sessionId).toArray()[0];
    if (!s) throw notFound();
    getMembership(k, getOrg(k, orgId).id, s.user_id);
  }
  k.sql.exec("UPDATE auth_sessions SET last_active_organization_id = ?, updated_at = ? WHERE id = ?", orgId, k.clock.now(), sessionId);
}
