// Sign-in tokens and invitations: tickets a user redeems at the Frontend API. Expiry follows the
// run clock; invitation emails land in the run's inbox.
import type { Kernel } from "../../kernel/types.ts";
import { randomBase62 } from "../../lib/crypto.ts";
import { ClerkError, formError, invalidParam, notFound } from "./errors.ts";
import { createUser, getUserRow, normalizeEmail, pageParams } from "./users.ts";
import { emitAuthEvent } from "./events.ts";
import { ROLES, addMember, getOrg, role as normalizeRole } from "./orgs.ts";

type Json = Record<string, unknown>;

type SignInTokenRow = { id: string; user_id: string; token: string; status: string; expires_at: number; created_at: number; updated_at: number };
type InvitationRow = {
  id: string;
  seq: number;
  organization_id: string | null;
  role: string | null;
  inviter_id: string | null;
  email_address: string;
  status: string;
  public_metadata: string;
  private_metadata: string;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
};

/** Tickets are redeemed on the clone's own sign-in page (page.ts), so their links work in a browser. */
const ticketUrl = (k: Kernel, ticket: string) => `${k.world().urls.auth.replace(/\/$/, "")}/molar/${k.world().worldId}/tickets/accept?ticket=${ticket}`;

const statusAt = (k: Kernel, status: string, expiresAt: number | null) => (status === "pending" && expiresAt !== null && k.clock.now() >= expiresAt ? "expired" : status);

function signInTokenJson(k: Kernel, t: SignInTokenRow): Json {
  return { object: "sign_in_token", id: t.id, user_id: t.user_id, token: t.token, status: statusAt(k, t.status, t.expires_at), url: ticketUrl(k, t.token), created_at: t.created_at, updated_at: t.updated_at };
}

/** `POST /v1/sign_in_tokens`: 30 days by default, as at Clerk. */
export function createSignInToken(k: Kernel, b: Json): Json {
  if (typeof b.user_id !== "string") throw formError("form_param_missing", "user_id", "missing data", "user_id must be included.");
  getUserRow(k, b.user_id);
  const ttl = b.expires_in_seconds ?? 2_592_000;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > 315_360_000) throw invalidParam("expires_in_seconds", "expires_in_seconds must be a positive integer.");
  const now = k.clock.now();
  const id = k.ids.make("sit_", 27);
  k.sql.exec(
    "INSERT INTO auth_sign_in_tokens (id, user_id, token, status, expires_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
    id, b.user_id, randomBase62(48), now + ttl * 1000, now, now,
  );
  return signInTokenJson(k, k.sql.exec<SignInTokenRow>("SELECT * FROM auth_sign_in_tokens WHERE id = ?", id).one());
}

export function revokeSignInToken(k: Kernel, id: string): Json {
  const t = k.sql.exec<SignInTokenRow>("SELECT * FROM auth_sign_in_tokens WHERE id = ?", id).toArray()[0];
  if (!t) throw notFound();
  if (statusAt(k, t.status, t.expires_at) !== "pending") throw new ClerkError(400, "sign_in_token_cannot_be_revoked", "cannot be revoked", `Sign in token can't be revoked because its status is ${statusAt(k, t.status, t.expires_at)}.`);
  k.sql.exec("UPDATE auth_sign_in_tokens SET status = 'revoked', updated_at = ? WHERE id = ?", k.clock.now(), id);
  return signInTokenJson(k, k.sql.exec<SignInTokenRow>("SELECT * FROM auth_sign_in_tokens WHERE id = ?", id).one());
}

function invitationJson(k: Kernel, i: InvitationRow): Json {
  const status = statusAt(k, i.status, i.expires_at);
  return {
    object: "invitation",
    id: i.id,
    email_address: i.email_address,
    public_metadata: JSON.parse(i.public_metadata),
    revoked: status === "revoked",
    status,
    url: ticketUrl(k, i.id),
    expires_at: i.expires_at,
    created_at: i.created_at,
    updated_at: i.updated_at,
  };
}

/** `POST /v1/invitations`: the invitation email goes to the run's inbox unless `notify` is false. */
export function createInvitation(k: Kernel, b: Json): Json {
  const email = normalizeEmail(b.email_address);
  if (b.ignore_existing !== true) {
    if (k.sql.exec("SELECT 1 FROM auth_identifiers WHERE type = 'email_address' AND value = ?", email).toArray().length) {
      throw formError("form_identifier_exists", "email_address", "That email address is taken. Please try another.");
    }
    const pending = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE organization_id IS NULL AND email_address = ? AND status = 'pending'", email).toArray();
    if (pending.some((p) => statusAt(k, p.status, p.expires_at) === "pending")) {
      throw new ClerkError(400, "duplicate_record", "duplicate invitation", "There are already pending invitations for the following email addresses: " + email, { param_name: "email_address" });
    }
  }
  const days = b.expires_in_days ?? 30;
  if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 365) throw invalidParam("expires_in_days", "expires_in_days must be an integer between 1 and 365.");
  const pm = b.public_metadata ?? {};
  if (typeof pm !== "object" || pm === null || Array.isArray(pm)) throw invalidParam("public_metadata", "public_metadata must be an object.");
  const now = k.clock.now();
  const id = k.ids.make("inv_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_invitations").one().v);
  k.sql.exec(
    "INSERT INTO auth_invitations (id, seq, email_address, status, public_metadata, expires_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)",
    id, seq, email, JSON.stringify(pm), now + days * 86_400_000, now, now,
  );
  const json = invitationJson(k, k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ?", id).one());
  if (b.notify !== false) {
    k.inbox.add({ kind: "auth", channel: "email", to: email, from: "notifications@molar.localhost", subject: "You have been invited", text: `Accept your invitation: ${json.url}`, ref: id });
  }
  return json;
}

export function revokeInvitation(k: Kernel, id: string): Json {
  const i = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ? AND organization_id IS NULL", id).toArray()[0];
  if (!i) throw notFound();
  if (statusAt(k, i.status, i.expires_at) !== "pending") throw new ClerkError(400, "invitation_already_" + i.status, "cannot be revoked", `Invitation can't be revoked because its status is ${i.status}.`);
  k.sql.exec("UPDATE auth_invitations SET status = 'revoked', updated_at = ? WHERE id = ?", k.clock.now(), id);
  return invitationJson(k, k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ?", id).one());
}

export function listInvitations(k: Kernel, q: { limit?: string; offset?: string; status?: string; query?: string; paginated?: string }) {
  const { limit, offset } = pageParams(q);
  const all = k.sql
    // instr, not LIKE: workerd refuses LIKE patterns over 50 bytes, and a query may be longer.
    .exec<InvitationRow>("SELECT * FROM auth_invitations WHERE organization_id IS NULL AND (?1 IS NULL OR instr(lower(email_address), ?1) > 0) ORDER BY seq DESC", q.query ? q.query.toLowerCase() : null)
    .toArray()
    .map((i) => invitationJson(k, i))
    .filter((i) => !q.status || i.status === q.status);
  const data = all.slice(offset, offset + limit);
  return q.paginated === "true" ? { data, total_count: all.length } : data;
}

// ---- organization invitations ----------------------------------------------------------------

function orgInvitationJson(k: Kernel, i: InvitationRow): Json {
  const o = getOrg(k, i.organization_id!);
  const inviter = i.inviter_id ? k.sql.exec<{ id: string; first_name: string | null; last_name: string | null }>("SELECT id, first_name, last_name FROM auth_users WHERE id = ?", i.inviter_id).toArray()[0] : undefined;
  return {
    object: "organization_invitation",
    id: i.id,
    email_address: i.email_address,
    role: i.role,
    role_name: ROLES[i.role!]?.name ?? i.role,
    organization_id: o.id,
    inviter_id: i.inviter_id,
    public_inviter_data: inviter ? { user_id: inviter.id, first_name: inviter.first_name, last_name: inviter.last_name, image_url: "https://www.gravatar.com/avatar?d=mp", has_image: false, identifier: "" } : null,
    status: statusAt(k, i.status, i.expires_at),
    public_metadata: JSON.parse(i.public_metadata),
    private_metadata: JSON.parse(i.private_metadata),
    url: ticketUrl(k, i.id),
    expires_at: i.expires_at,
    created_at: i.created_at,
    updated_at: i.updated_at,
  };
}

function getOrgInvitation(k: Kernel, orgId: string, id: string): InvitationRow {
  const i = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ? AND organization_id = ?", id, orgId).toArray()[0];
  if (!i) throw notFound();
  return i;
}

const obj = (v: unknown, param: string): Json => {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(param, `${param} must be an object.`);
  return v as Json;
};

/** `POST /v1/organizations/{id}/invitations`: the invitation email lands in the run's inbox. */
export function createOrgInvitation(k: Kernel, orgIdOrSlug: string, b: Json): Json {
  const o = getOrg(k, orgIdOrSlug);
  const email = normalizeEmail(b.email_address);
  const r = normalizeRole(b.role);
  const inviter = typeof b.inviter_user_id === "string" ? getUserRow(k, b.inviter_user_id).id : null;
  const member = k.sql
    .exec("SELECT 1 FROM auth_memberships m JOIN auth_identifiers i ON i.user_id = m.user_id AND i.type = 'email_address' WHERE m.organization_id = ? AND i.value = ?", o.id, email)
    .toArray().length;
  if (member) throw new ClerkError(400, "already_a_member_in_organization", "already a member", `${email} is already a member of the organization.`, { param_name: "email_address" });
  const pending = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE organization_id = ? AND email_address = ? AND status = 'pending'", o.id, email).toArray();
  if (pending.some((p) => statusAt(k, p.status, p.expires_at) === "pending")) {
    throw new ClerkError(400, "duplicate_record", "duplicate invitation", `There is already a pending invitation for ${email}.`, { param_name: "email_address" });
  }
  const days = b.expires_in_days ?? 30;
  if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 365) throw invalidParam("expires_in_days", "expires_in_days must be an integer between 1 and 365.");
  const now = k.clock.now();
  const id = k.ids.make("orginv_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_invitations").one().v);
  k.sql.exec(
    `INSERT INTO auth_invitations (id, seq, organization_id, role, inviter_id, email_address, status, public_metadata, private_metadata, expires_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
    id, seq, o.id, r, inviter, email, JSON.stringify(obj(b.public_metadata, "public_metadata")), JSON.stringify(obj(b.private_metadata, "private_metadata")), now + days * 86_400_000, now, now,
  );
  const json = orgInvitationJson(k, getOrgInvitation(k, o.id, id));
  k.inbox.add({ kind: "auth", channel: "email", to: email, from: "notifications@molar.localhost", subject: `You're invited to join ${o.name}`, text: `Accept your invitation: ${json.url}`, ref: id });
  emitAuthEvent(k, "organizationInvitation.created", json);
  return json;
}

export const getOrgInvitationJson = (k: Kernel, orgIdOrSlug: string, id: string) => orgInvitationJson(k, getOrgInvitation(k, getOrg(k, orgIdOrSlug).id, id));

export function revokeOrgInvitation(k: Kernel, orgIdOrSlug: string, id: string): Json {
  const i = getOrgInvitation(k, getOrg(k, orgIdOrSlug).id, id);
  const status = statusAt(k, i.status, i.expires_at);
  if (status !== "pending") throw new ClerkError(400, `organization_invitation_already_${status}`, "cannot be revoked", `Invitation can't be revoked because its status is ${status}.`);
  k.sql.exec("UPDATE auth_invitations SET status = 'revoked', updated_at = ? WHERE id = ?", k.clock.now(), id);
  const json = orgInvitationJson(k, getOrgInvitation(k, i.organization_id!, id));
  emitAuthEvent(k, "organizationInvitation.revoked", json);
  return json;
}

export function listOrgInvitations(k: Kernel, orgIdOrSlug: string, q: { limit?: string; offset?: string; status?: string }) {
  const o = getOrg(k, orgIdOrSlug);
  const { limit, offset } = pageParams(q);
  const all = k.sql
    .exec<InvitationRow>("SELECT * FROM auth_invitations WHERE organization_id = ? ORDER BY seq DESC", o.id)
    .toArray()
    .map((i) => orgInvitationJson(k, i))
    .filter((i) => !q.status || i.status === q.status);
  return { data: all.slice(offset, offset + limit), total_count: all.length };
}

// ---- redeeming tickets (the sign-in page's `tickets/accept`) ----------------------------------

export type Ticket =
  | { kind: "sign_in_token"; userId: string }
  | { kind: "invitation" | "organization_invitation"; email: string; organizationId: string | null; existingUserId: string | null };

const ticketError = (status: string) =>
  new ClerkError(422, status === "expired" ? "ticket_expired" : "ticket_invalid", status === "expired" ? "Ticket expired" : "Invalid ticket", `This ticket is ${status === "expired" ? "expired" : `no longer valid (${status})`}.`);

/** What a ticket is, if it can still be redeemed. Sign-in tokens are spent here. */
export function openTicket(k: Kernel, ticket: string): Ticket {
  const t = k.sql.exec<SignInTokenRow>("SELECT * FROM auth_sign_in_tokens WHERE token = ?", ticket).toArray()[0];
  if (t) {
    const status = statusAt(k, t.status, t.expires_at);
    if (status !== "pending") throw ticketError(status);
    k.sql.exec("UPDATE auth_sign_in_tokens SET status = 'accepted', updated_at = ? WHERE id = ?", k.clock.now(), t.id);
    return { kind: "sign_in_token", userId: t.user_id };
  }
  const i = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ?", ticket).toArray()[0];
  if (!i) throw ticketError("unknown");
  const status = statusAt(k, i.status, i.expires_at);
  if (status !== "pending") throw ticketError(status);
  const existing = k.sql.exec<{ user_id: string }>("SELECT user_id FROM auth_identifiers WHERE type = 'email_address' AND value = ?", i.email_address).toArray()[0];
  return { kind: i.organization_id ? "organization_invitation" : "invitation", email: i.email_address, organizationId: i.organization_id, existingUserId: existing?.user_id ?? null };
}

/**
 * Accepts an invitation: signs the invitee up (or takes the existing user, for an organization
 * invitation), joins the organization with the invited role, and answers the user's id.
 */
export function acceptInvitation(k: Kernel, ticket: string, signUp: { password?: string; first_name?: string; last_name?: string }): { userId: string; organizationId: string | null } {
  const i = k.sql.exec<InvitationRow>("SELECT * FROM auth_invitations WHERE id = ?", ticket).toArray()[0];
  if (!i) throw ticketError("unknown");
  const status = statusAt(k, i.status, i.expires_at);
  if (status !== "pending") throw ticketError(status);
  const existing = k.sql.exec<{ user_id: string }>("SELECT user_id FROM auth_identifiers WHERE type = 'email_address' AND value = ?", i.email_address).toArray()[0];
  const userId =
    existing && i.organization_id
      ? existing.user_id
      : createUser(k, { email_address: [i.email_address], password: signUp.password || undefined, first_name: signUp.first_name || undefined, last_name: signUp.last_name || undefined, public_metadata: JSON.parse(i.public_metadata) }).id;
  k.sql.exec("UPDATE auth_invitations SET status = 'accepted', updated_at = ? WHERE id = ?", k.clock.now(), i.id);
  if (i.organization_id) {
    addMember(k, i.organization_id, userId, i.role);
    emitAuthEvent(k, "organizationInvitation.accepted", orgInvitationJson(k, getOrgInvitation(k, i.organization_id, i.id)));
  }
  return { userId, organizationId: i.organization_id };
}
