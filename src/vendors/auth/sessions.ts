// Sessions of the auth clone: lifetime on the run clock, and the claims of the JWTs they mint.
// Never sees a Request. Signing itself is async (jwt.ts); everything here is synchronous.
import type { JWTPayload } from "jose";
import type { Kernel } from "../../kernel/types.ts";
import { ClerkError, formError, invalidParam, notFound } from "./errors.ts";
import { emitAuthEvent } from "./events.ts";
import { getUserRow, identifiersOf, pageParams, touchSignIn, userJson, type UserRow } from "./users.ts";
import { activeOrgClaims, orgShortcodes } from "./orgs.ts";

/** Clerk's defaults: a session lives 7 days at most; tokens live 60 s. */
export const SESSION_LIFETIME_MS = 7 * 86_400_000;
export const ABANDON_MS = 30 * 86_400_000;
export const TOKEN_LIFETIME_S = 60;
/** Clerk back-dates `nbf` by 10 s so a verifier's slightly slow clock still accepts a fresh token. */
const NBF_SKEW_S = 10;
export const DEFAULT_AZP = "http://localhost:3000";

export type SessionRow = {
  id: string;
  seq: number;
  user_id: string;
  client_id: string;
  status: string;
  last_active_organization_id: string | null;
  azp: string | null;
  last_active_at: number;
  expire_at: number;
  abandon_at: number;
  created_at: number;
  updated_at: number;
};

type Json = Record<string, unknown>;

/** The status a reader sees: an active session past its lifetime on the run clock has expired. */
export const statusOf = (k: Kernel, s: SessionRow) => (s.status === "active" && k.clock.now() >= s.expire_at ? "expired" : s.status);

export function sessionJson(k: Kernel, s: SessionRow): Json {
  return {
    object: "session",
    id: s.id,
    user_id: s.user_id,
    client_id: s.client_id,
    actor: null,
    status: statusOf(k, s),
    last_active_organization_id: s.last_active_organization_id,
    last_active_at: s.last_active_at,
    latest_activity: null,
    expire_at: s.expire_at,
    abandon_at: s.abandon_at,
    updated_at: s.updated_at,
    created_at: s.created_at,
    tasks: null,
  };
}

/** Session events carry the session (without `tasks`) and its user, per Clerk's `SessionEventPayload`. */
function emitSessionEvent(k: Kernel, type: string, s: SessionRow): void {
  const { tasks: _tasks, ...session } = sessionJson(k, s);
  emitAuthEvent(k, type, { ...session, user: userJson(k, getUserRow(k, s.user_id)) });
}

export function getSessionRow(k: Kernel, id: string): SessionRow {
  const row = k.sql.exec<SessionRow>("SELECT * FROM auth_sessions WHERE id = ?", id).toArray()[0];
  if (!row) throw notFound();
  return row;
}

/** `POST /v1/sessions`: a signed-in session for a user, as if they had just signed in. */
export function createSession(k: Kernel, userId: unknown, opts: { organizationId?: string | null; azp?: string | null } = {}): SessionRow {
  if (typeof userId !== "string" || userId === "") throw formError("form_param_missing", "user_id", "missing data", "user_id must be included.");
  const u = getUserRow(k, userId);
  if (u.banned) throw new ClerkError(403, "user_banned", "Account banned", "This account is banned.");
  if (u.locked) throw new ClerkError(403, "user_locked", "Account locked", "Your account is locked. Please contact support for more information.");
  if (opts.organizationId) requireMembership(k, opts.organizationId, userId);
  const now = k.clock.now();
  const id = k.ids.make("sess_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_sessions").one().v);
  k.sql.exec(
    `INSERT INTO auth_sessions (id, seq, user_id, client_id, status, last_active_organization_id, azp, last_active_at, expire_at, abandon_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)`,
    id, seq, userId, k.ids.make("client_", 27), opts.organizationId ?? null, opts.azp ?? null, now, now + SESSION_LIFETIME_MS, now + ABANDON_MS, now, now,
  );
  touchSignIn(k, userId);
  const row = getSessionRow(k, id);
  emitSessionEvent(k, "session.created", row);
  return row;
}

function requireMembership(k: Kernel, orgId: string, userId: string): void {
  const ok = k.sql.exec("SELECT 1 FROM auth_memberships WHERE organization_id = ? AND user_id = ?", orgId, userId).toArray().length > 0;
  if (!ok) throw notFound();
}

/** Ends a live session: `revoked` (by the backend), `ended` (sign-out) or `removed`. */
export function endSession(k: Kernel, id: string, status: "revoked" | "ended" | "removed"): SessionRow {
  const s = getSessionRow(k, id);
  if (statusOf(k, s) !== "active") return s;
  const now = k.clock.now();
  k.sql.exec("UPDATE auth_sessions SET status = ?, updated_at = ? WHERE id = ?", status, now, id);
  const row = getSessionRow(k, id);
  emitSessionEvent(k, `session.${status}`, row);
  return row;
}

/** Ends every live session of a user (ban, delete, sign out of other sessions). */
export function revokeUserSessions(k: Kernel, userId: string, status: "revoked" | "removed"): void {
  const now = k.clock.now();
  const live = k.sql.exec<{ id: string }>("SELECT id FROM auth_sessions WHERE user_id = ? AND status = 'active' AND expire_at > ?", userId, now).toArray();
  for (const { id } of live) endSession(k, id, status);
}

export function listSessions(k: Kernel, q: { user_id?: string; client_id?: string; status?: string; limit?: string; offset?: string; paginated?: string }) {
  if (!q.user_id && !q.client_id) throw new ClerkError(422, "form_param_missing", "missing data", "Either user_id or client_id must be included.");
  const { limit, offset } = pageParams(q);
  const rows = k.sql
    .exec<SessionRow>("SELECT * FROM auth_sessions WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR client_id = ?2) ORDER BY seq DESC", q.user_id ?? null, q.client_id ?? null)
    .toArray()
    .filter((s) => !q.status || statusOf(k, s) === q.status);
  const data = rows.slice(offset, offset + limit).map((s) => sessionJson(k, s));
  return q.paginated === "true" ? { data, total_count: rows.length } : data;
}

/** `GET /v1/clients/{id}`: the client (browser) a session belongs to; one per session here. */
export function clientJson(k: Kernel, clientId: string) {
  const rows = k.sql.exec<SessionRow>("SELECT * FROM auth_sessions WHERE client_id = ? ORDER BY seq", clientId).toArray();
  if (rows.length === 0) throw notFound();
  const live = rows.filter((s) => statusOf(k, s) === "active");
  return {
    object: "client",
    id: clientId,
    session_ids: live.map((s) => s.id),
    sessions: live.map((s) => sessionJson(k, s)),
    sign_in_id: null,
    sign_up_id: null,
    last_active_session_id: live.at(-1)?.id ?? null,
    last_authentication_strategy: null,
    created_at: rows[0].created_at,
    updated_at: Math.max(...rows.map((s) => s.updated_at)),
  };
}

/** A session that may still mint tokens; otherwise Clerk's refusal. */
function liveSession(k: Kernel, id: string): SessionRow {
  const s = getSessionRow(k, id);
  const status = statusOf(k, s);
  if (status === "expired") throw new ClerkError(401, "session_expired", "Session expired", "This session has expired and can no longer issue tokens.");
  if (status !== "active") throw notFound();
  return s;
}

function lifetime(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 30 || v > 315_360_000) {
    throw invalidParam("expires_in_seconds", "expires_in_seconds must be an integer between 30 and 315360000.");
  }
  return v;
}

const issuer = (k: Kernel) => `https://clerk.${k.world().worldId}.molar.localhost`;

/** Marks activity; answers the wall-clock `iat` a token minted now carries. */
function touch(k: Kernel, s: SessionRow): number {
  const now = k.clock.now();
  k.sql.exec("UPDATE auth_sessions SET last_active_at = ?, updated_at = ? WHERE id = ?", now, now, s.id);
  k.sql.exec("UPDATE auth_users SET last_active_at = ? WHERE id = ?", now, s.user_id);
  return Math.floor(Date.now() / 1000);
}

/**
 * The claims of a session token (version 2, as Clerk issues them today): `o` carries the
 * active organization. `iat`/`exp`/`nbf` are wall-clock so real verifiers accept them.
 */
export function sessionClaims(k: Kernel, sessionId: string, expiresInSeconds?: unknown): JWTPayload {
  const s = liveSession(k, sessionId);
  const iat = touch(k, s);
  const claims: JWTPayload = {
    azp: s.azp ?? DEFAULT_AZP,
    exp: iat + lifetime(expiresInSeconds, TOKEN_LIFETIME_S),
    fva: [0, -1],
    iat,
    iss: issuer(k),
    nbf: iat - NBF_SKEW_S,
    sid: s.id,
    sts: "active",
    sub: s.user_id,
    v: 2,
  };
  const o = activeOrgClaims(k, s);
  if (o) claims.o = o;
  return claims;
}

// ---- JWT templates -------------------------------------------------------------------------

export type TemplateRow = { id: string; name: string; claims: string; lifetime: number; allowed_clock_skew: number; created_at: number; updated_at: number };

export function templateJson(t: TemplateRow): Json {
  return {
    object: "jwt_template",
    id: t.id,
    name: t.name,
    claims: JSON.parse(t.claims),
    lifetime: t.lifetime,
    allowed_clock_skew: t.allowed_clock_skew,
    custom_signing_key: false,
    signing_algorithm: "RS256",
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

function templateFields(b: Json, current?: TemplateRow) {
  const name = b.name ?? current?.name;
  if (typeof name !== "string" || name.trim() === "") throw formError("form_param_missing", "name", "missing data", "name must be included.");
  const claims = b.claims ?? (current ? JSON.parse(current.claims) : undefined);
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) throw invalidParam("claims", "claims must be a JSON object.");
  const life = b.lifetime ?? current?.lifetime ?? 60;
  if (typeof life !== "number" || !Number.isInteger(life) || life < 30 || life > 315_360_000) throw invalidParam("lifetime", "lifetime must be an integer between 30 and 315360000.");
  const skew = b.allowed_clock_skew ?? current?.allowed_clock_skew ?? 5;
  if (typeof skew !== "number" || !Number.isInteger(skew) || skew < 0 || skew > 300) throw invalidParam("allowed_clock_skew", "allowed_clock_skew must be an integer between 0 and 300.");
  if (b.custom_signing_key === true) throw new ClerkError(501, "not_implemented", "not implemented", "Custom signing keys are not implemented by the auth clone yet.");
  return { name: name.trim(), claims: JSON.stringify(claims), lifetime: life, skew };
}

export function saveTemplate(k: Kernel, b: Json, id?: string): TemplateRow {
  const current = id ? getTemplate(k, id) : undefined;
  const f = templateFields(b, current);
  const clash = k.sql.exec<{ id: string }>("SELECT id FROM auth_jwt_templates WHERE name = ? AND id IS NOT ?", f.name, id ?? null).toArray()[0];
  if (clash) throw formError("form_identifier_exists", "name", "That name is taken. Please try another.");
  const now = k.clock.now();
  if (current) {
    k.sql.exec("UPDATE auth_jwt_templates SET name = ?, claims = ?, lifetime = ?, allowed_clock_skew = ?, updated_at = ? WHERE id = ?", f.name, f.claims, f.lifetime, f.skew, now, current.id);
    return getTemplate(k, current.id);
  }
  const newId = k.ids.make("jtmp_", 27);
  k.sql.exec(
    "INSERT INTO auth_jwt_templates (id, name, claims, lifetime, allowed_clock_skew, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    newId, f.name, f.claims, f.lifetime, f.skew, now, now,
  );
  return getTemplate(k, newId);
}

export function getTemplate(k: Kernel, idOrName: string): TemplateRow {
  const t = k.sql.exec<TemplateRow>("SELECT * FROM auth_jwt_templates WHERE id = ?1 OR name = ?1", idOrName).toArray()[0];
  if (!t) throw notFound();
  return t;
}

export const listTemplates = (k: Kernel) => k.sql.exec<TemplateRow>("SELECT * FROM auth_jwt_templates ORDER BY created_at, id").toArray().map(templateJson);

export function deleteTemplate(k: Kernel, id: string): Json {
  const t = getTemplate(k, id);
  k.sql.exec("DELETE FROM auth_jwt_templates WHERE id = ?", t.id);
  return { object: "jwt_template", id: t.id, deleted: true };
}

/** Values of Clerk's template shortcodes (`{{user.id}}`, `{{user.public_metadata.plan}}`, `{{org.slug}}`...). */
function shortcodes(k: Kernel, u: UserRow, s: SessionRow): Record<string, unknown> {
  const ids = identifiersOf(k, u.id);
  const email = ids.find((i) => i.id === u.primary_email_address_id);
  const phone = ids.find((i) => i.id === u.primary_phone_number_id);
  return {
    user: {
      id: u.id,
      external_id: u.external_id,
      first_name: u.first_name,
      last_name: u.last_name,
      full_name: [u.first_name, u.last_name].filter(Boolean).join(" ") || null,
      username: u.username,
      primary_email_address: email?.value ?? null,
      email_verified: email ? !!email.verified : false,
      primary_phone_number: phone?.value ?? null,
      phone_number_verified: phone ? !!phone.verified : false,
      has_image: false,
      two_factor_enabled: false,
      public_metadata: JSON.parse(u.public_metadata),
      unsafe_metadata: JSON.parse(u.unsafe_metadata),
      created_at: Math.floor(u.created_at / 1000),
      updated_at: Math.floor(u.updated_at / 1000),
    },
    session: { actor: null },
    ...orgShortcodes(k, s),
  };
}

function lookup(values: Record<string, unknown>, path: string): unknown {
  let v: unknown = values;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null) return null;
    v = (v as Record<string, unknown>)[part];
  }
  return v === undefined ? null : v;
}

const SHORTCODE = /\{\{\s*([\w.]+)\s*\}\}/g;

function resolve(v: unknown, values: Record<string, unknown>): unknown {
  if (typeof v === "string") {
    const whole = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(v);
    if (whole) return lookup(values, whole[1]);
    return v.replace(SHORTCODE, (_m, p: string) => {
      const r = lookup(values, p);
      return r === null ? "" : typeof r === "object" ? JSON.stringify(r) : String(r);
    });
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, values));
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, resolve(x, values)]));
  return v;
}

/** Claims of a token from a JWT template: its claims resolved, then Clerk's reserved ones. */
export function templateClaims(k: Kernel, sessionId: string, templateName: string, expiresInSeconds?: unknown): JWTPayload {
  const s = liveSession(k, sessionId);
  const t = getTemplate(k, templateName);
  const u = getUserRow(k, s.user_id);
  const iat = touch(k, s);
  const custom = resolve(JSON.parse(t.claims), shortcodes(k, u, s)) as JWTPayload;
  return {
    ...custom,
    azp: s.azp ?? DEFAULT_AZP,
    exp: iat + lifetime(expiresInSeconds, t.lifetime),
    iat,
    iss: issuer(k),
    jti: k.ids.make("", 20),
    nbf: iat - t.allowed_clock_skew,
    sub: s.user_id,
  };
}

// ---- testing tokens ------------------------------------------------------------------------

/** `POST /v1/testing_tokens`: what `@clerk/testing` fetches to bypass bot protection. */
export function testingToken(k: Kernel) {
  const now = Math.floor(k.clock.now() / 1000);
  return { object: "testing_token", token: `${now}-${k.ids.make("", 20)}`, expires_at: now + 3600 };
}
