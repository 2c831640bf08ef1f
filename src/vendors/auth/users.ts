// Users of the auth clone: identifiers, passwords, metadata, ban and lock. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import { ClerkError, formError, identifierExists, invalidParam, notFound } from "./errors.ts";
import { emitAuthEvent } from "./events.ts";
import { checkPassword, hashPassword, validatePassword } from "./passwords.ts";
import { revokeUserSessions } from "./sessions.ts";

export type UserRow = {
  id: string;
  seq: number;
  external_id: string | null;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  password_hash: string | null;
  password_updated_at: number | null;
  primary_email_address_id: string | null;
  primary_phone_number_id: string | null;
  public_metadata: string;
  private_metadata: string;
  unsafe_metadata: string;
  banned: number;
  locked: number;
  delete_self_enabled: number;
  create_organization_enabled: number;
  legal_accepted_at: number | null;
  last_sign_in_at: number | null;
  last_active_at: number | null;
  created_at: number;
  updated_at: number;
};

export type IdentifierRow = {
  id: string;
  user_id: string;
  type: "email_address" | "phone_number";
  value: string;
  verified: number;
  reserved: number;
  created_at: number;
  updated_at: number;
};

type Json = Record<string, unknown>;

// ---- identifiers ---------------------------------------------------------------------------

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const USERNAME = /^[A-Za-z0-9_.-]+$/;

export function normalizeEmail(v: unknown, param = "email_address"): string {
  if (typeof v !== "string" || !EMAIL.test(v.trim())) throw invalidParam(param, `${param} must be a valid email address.`);
  return v.trim().toLowerCase();
}

export function normalizePhone(v: unknown, param = "phone_number"): string {
  const s = typeof v === "string" ? v.replace(/[\s()-]/g, "") : "";
  if (!E164.test(s)) throw invalidParam(param, `${param} must be a valid phone number according to E.164 international standard.`);
  return s;
}

function normalizeUsername(v: unknown): string {
  if (typeof v !== "string") throw invalidParam("username", "username must be a string.");
  if (v.length < 4 || v.length > 64) throw formError("form_username_invalid_length", "username", "Username must be between 4 and 64 characters long.");
  if (!USERNAME.test(v)) throw formError("form_username_invalid_character", "username", "Username can only contain letters, numbers and '_' or '-'.");
  return v.toLowerCase();
}

/** Clerk's test identifiers: they take code 424242 and never leave the world. */
export const isTestIdentifier = (type: string, value: string) =>
  type === "email_address" ? value.includes("+clerk_test") : /^\+1\d{3}55501\d{2}$/.test(value);

export function addIdentifier(k: Kernel, userId: string, type: IdentifierRow["type"], value: string, verified: boolean): string {
  const taken = k.sql.exec<{ id: string }>("SELECT id FROM auth_identifiers WHERE type = ? AND value = ?", type, value).toArray()[0];
  if (taken) throw identifierExists(type, type === "email_address" ? "email address" : "phone number");
  const id = k.ids.make("idn_", 27);
  const now = k.clock.now();
  k.sql.exec(
    "INSERT INTO auth_identifiers (id, user_id, type, value, verified, reserved, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
    id, userId, type, value, verified ? 1 : 0, now, now,
  );
  return id;
}

function usernameTaken(k: Kernel, username: string, except?: string): boolean {
  return k.sql.exec("SELECT 1 FROM auth_users WHERE username = ? AND id IS NOT ?", username, except ?? null).toArray().length > 0;
}

// ---- reads and JSON ------------------------------------------------------------------------

export function getUserRow(k: Kernel, id: string): UserRow {
  const row = k.sql.exec<UserRow>("SELECT * FROM auth_users WHERE id = ?", id).toArray()[0];
  if (!row) throw notFound();
  return row;
}

export function identifiersOf(k: Kernel, userId: string): IdentifierRow[] {
  return k.sql.exec<IdentifierRow>("SELECT * FROM auth_identifiers WHERE user_id = ? ORDER BY created_at, id", userId).toArray();
}

const verification = (r: IdentifierRow) =>
  r.verified
    ? { object: "verification_admin", status: "verified", strategy: "admin", attempts: null, expire_at: null }
    : { object: "verification_otp", status: "unverified", strategy: r.type === "email_address" ? "email_code" : "phone_code", attempts: null, expire_at: null };

export function identifierJson(r: IdentifierRow): Json {
  const base = { id: r.id, object: r.type, [r.type]: r.value, reserved: !!r.reserved, verification: verification(r), linked_to: [], created_at: r.created_at, updated_at: r.updated_at };
  return r.type === "email_address" ? { ...base, matches_sso_connection: false } : { ...base, reserved_for_second_factor: false, default_second_factor: false, backup_codes: null };
}

export function userJson(k: Kernel, u: UserRow): Json {
  const ids = identifiersOf(k, u.id);
  const hasPassword = u.password_hash !== null;
  return {
    id: u.id,
    object: "user",
    username: u.username,
    first_name: u.first_name,
    last_name: u.last_name,
    locale: null,
    image_url: `https://img.clerk.com/${btoa(JSON.stringify({ type: "default", src: u.id }))}`,
    profile_image_url: "https://www.gravatar.com/avatar?d=mp",
    has_image: false,
    primary_email_address_id: u.primary_email_address_id,
    primary_phone_number_id: u.primary_phone_number_id,
    primary_web3_wallet_id: null,
    password_enabled: hasPassword,
    password_last_updated_at: u.password_updated_at,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    mfa_enabled_at: null,
    mfa_disabled_at: null,
    email_addresses: ids.filter((i) => i.type === "email_address").map(identifierJson),
    phone_numbers: ids.filter((i) => i.type === "phone_number").map(identifierJson),
    web3_wallets: [],
    passkeys: [],
    external_accounts: [],
    saml_accounts: [],
    enterprise_accounts: [],
    public_metadata: JSON.parse(u.public_metadata),
    private_metadata: JSON.parse(u.private_metadata),
    unsafe_metadata: JSON.parse(u.unsafe_metadata),
    external_id: u.external_id,
    last_sign_in_at: u.last_sign_in_at,
    banned: !!u.banned,
    locked: !!u.locked,
    deprovisioned: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: 100,
    created_at: u.created_at,
    updated_at: u.updated_at,
    delete_self_enabled: !!u.delete_self_enabled,
    create_organization_enabled: !!u.create_organization_enabled,
    create_organizations_limit: null,
    last_active_at: u.last_active_at,
    legal_accepted_at: u.legal_accepted_at,
    bypass_client_trust: false,
  };
}

// ---- create, update, delete ----------------------------------------------------------------

const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function metadataField(v: unknown, param: string): string {
  if (v === undefined || v === null) return "{}";
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(param, `${param} must be an object.`);
  const s = JSON.stringify(v);
  if (s.length > 8192) throw formError("form_param_max_length_exceeded", param, "is too long", `${param} must be at most 8KB.`);
  return s;
}

const optString = (v: unknown, param: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw invalidParam(param, `${param} must be a string.`);
  return v;
};

/** `POST /v1/users`: identifiers are verified unless told otherwise, as at Clerk. */
export function createUser(k: Kernel, b: Json): UserRow {
  const emails = list(b.email_address).map((e) => normalizeEmail(e));
  const phones = list(b.phone_number).map((p) => normalizePhone(p));
  const username = b.username === undefined || b.username === null ? null : normalizeUsername(b.username);
  if (username && usernameTaken(k, username)) throw identifierExists("username", "username");
  const skip = b.skip_password_checks === true;
  const password = b.password === undefined || b.password === null ? null : validatePassword(b.password, skip);
  const now = k.clock.now();
  const id = k.ids.make("user_", 27);
  const seq = Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM auth_users").one().v);
  const createdAt = typeof b.created_at === "string" && !Number.isNaN(Date.parse(b.created_at)) ? Date.parse(b.created_at) : now;
  k.sql.exec(
    `INSERT INTO auth_users (id, seq, external_id, username, first_name, last_name, password_hash, password_updated_at, public_metadata, private_metadata, unsafe_metadata,
       banned, locked, delete_self_enabled, create_organization_enabled, legal_accepted_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)`,
    id, seq, optString(b.external_id, "external_id"), username, optString(b.first_name, "first_name"), optString(b.last_name, "last_name"),
    password === null ? null : hashPassword(password), password === null ? null : now,
    metadataField(b.public_metadata, "public_metadata"), metadataField(b.private_metadata, "private_metadata"), metadataField(b.unsafe_metadata, "unsafe_metadata"),
    b.delete_self_enabled === false ? 0 : 1, b.create_organization_enabled === false ? 0 : 1,
    typeof b.legal_accepted_at === "string" ? Date.parse(b.legal_accepted_at) || null : null, createdAt, now,
  );
  const emailIds = emails.map((e) => addIdentifier(k, id, "email_address", e, true));
  const phoneIds = phones.map((p) => addIdentifier(k, id, "phone_number", p, true));
  k.sql.exec("UPDATE auth_users SET primary_email_address_id = ?, primary_phone_number_id = ? WHERE id = ?", emailIds[0] ?? null, phoneIds[0] ?? null, id);
  const row = getUserRow(k, id);
  emitAuthEvent(k, "user.created", userJson(k, row));
  return row;
}

/** `PATCH /v1/users/{id}`: metadata given here replaces the stored value, as at Clerk. */
export function updateUser(k: Kernel, id: string, b: Json): UserRow {
  const u = getUserRow(k, id);
  const set: Record<string, unknown> = {};
  for (const f of ["first_name", "last_name", "external_id"] as const) if (b[f] !== undefined) set[f] = optString(b[f], f);
  if (b.username !== undefined) {
    const username = b.username === null ? null : normalizeUsername(b.username);
    if (username && usernameTaken(k, username, id)) throw identifierExists("username", "username");
    set.username = username;
  }
  if (b.password !== undefined && b.password !== null) {
    set.password_hash = hashPassword(validatePassword(b.password, b.skip_password_checks === true));
    set.password_updated_at = k.clock.now();
    if (b.sign_out_of_other_sessions === true) revokeUserSessions(k, id, "revoked");
  }
  for (const [f, type] of [["primary_email_address_id", "email_address"], ["primary_phone_number_id", "phone_number"]] as const) {
    if (b[f] === undefined) continue;
    const owned = k.sql.exec("SELECT 1 FROM auth_identifiers WHERE id = ? AND user_id = ? AND type = ?", b[f], id, type).toArray().length > 0;
    if (!owned) throw invalidParam(f, `${f} must be the id of one of the user's ${type === "email_address" ? "email addresses" : "phone numbers"}.`);
    set[f] = b[f];
  }
  for (const f of ["public_metadata", "private_metadata", "unsafe_metadata"] as const) if (b[f] !== undefined) set[f] = metadataField(b[f], f);
  for (const f of ["delete_self_enabled", "create_organization_enabled"] as const) if (typeof b[f] === "boolean") set[f] = b[f] ? 1 : 0;
  return writeUser(k, u, set);
}

export function writeUser(k: Kernel, u: UserRow, set: Record<string, unknown>, event = true): UserRow {
  set.updated_at = k.clock.now();
  const cols = Object.keys(set);
  k.sql.exec(`UPDATE auth_users SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, ...cols.map((c) => set[c]), u.id);
  const row = getUserRow(k, u.id);
  if (event) emitAuthEvent(k, "user.updated", userJson(k, row));
  return row;
}

/** Clerk's metadata merge: nested objects merge, `null` removes a key, anything else replaces. */
export function deepMerge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [key, v] of Object.entries(patch)) {
    if (v === null) delete out[key];
    else if (typeof v === "object" && !Array.isArray(v) && typeof out[key] === "object" && out[key] !== null && !Array.isArray(out[key])) out[key] = deepMerge(out[key] as Json, v as Json);
    else out[key] = v;
  }
  return out;
}

const FIELDS = ["public_metadata", "private_metadata", "unsafe_metadata"] as const;

/** `PATCH /v1/users/{id}/metadata` merges; `PUT` replaces each field given. */
export function updateMetadata(k: Kernel, id: string, b: Json, mode: "merge" | "replace"): UserRow {
  const u = getUserRow(k, id);
  const set: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = b[f];
    if (v === undefined) continue;
    if (mode === "replace") {
      set[f] = v === null ? "null" : metadataField(v, f);
      continue;
    }
    if (v === null) continue;
    if (typeof v !== "object" || Array.isArray(v)) throw invalidParam(f, `${f} must be an object.`);
    const current = JSON.parse(u[f]) ?? {};
    set[f] = metadataField(deepMerge(current, v as Json), f);
  }
  return writeUser(k, u, set);
}

export function deleteUser(k: Kernel, id: string): Json {
  getUserRow(k, id);
  revokeUserSessions(k, id, "removed");
  k.sql.exec("DELETE FROM auth_identifiers WHERE user_id = ?", id);
  k.sql.exec("DELETE FROM auth_memberships WHERE user_id = ?", id);
  k.sql.exec("DELETE FROM auth_users WHERE id = ?", id);
  const deleted = { object: "user", id, deleted: true };
  emitAuthEvent(k, "user.deleted", deleted);
  return deleted;
}

export function setFlag(k: Kernel, id: string, flag: "banned" | "locked", on: boolean): UserRow {
  const u = getUserRow(k, id);
  if (on && flag === "banned") revokeUserSessions(k, id, "revoked");
  return writeUser(k, u, { [flag]: on ? 1 : 0 });
}

export function verifyPassword(k: Kernel, id: string, password: unknown): { verified: true } {
  const u = getUserRow(k, id);
  if (u.password_hash === null) throw new ClerkError(400, "no_password_set", "no password set", "The user does not have a password set.");
  if (typeof password !== "string" || !checkPassword(password, u.password_hash)) {
    throw formError("form_password_incorrect", "password", "Password is incorrect. Try again, or use another method.");
  }
  return { verified: true };
}

// ---- lists ---------------------------------------------------------------------------------

export interface UserQuery {
  email_address?: string[];
  phone_number?: string[];
  external_id?: string[];
  username?: string[];
  user_id?: string[];
  organization_id?: string[];
  query?: string;
  order_by?: string;
  limit?: string;
  offset?: string;
  banned?: string;
  last_active_at_since?: string;
}

const ORDERABLE = new Set(["created_at", "updated_at", "last_sign_in_at", "last_active_at", "username", "first_name", "last_name", "email_address", "phone_number", "web3wallet"]);

function userWhere(q: UserQuery): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  const inList = (col: string, values: string[] | undefined) => {
    if (!values || values.length === 0) return;
    parts.push(`${col} IN (${values.map(() => "?").join(", ")})`);
    args.push(...values);
  };
  inList("u.id", q.user_id);
  inList("u.external_id", q.external_id);
  inList("u.username", q.username?.map((s) => s.toLowerCase()));
  for (const [type, values] of [["email_address", q.email_address?.map((e) => e.toLowerCase())], ["phone_number", q.phone_number]] as const) {
    if (!values || values.length === 0) continue;
    parts.push(`u.id IN (SELECT user_id FROM auth_identifiers WHERE type = ? AND value IN (${values.map(() => "?").join(", ")}))`);
    args.push(type, ...values);
  }
  if (q.organization_id?.length) {
    parts.push(`u.id IN (SELECT user_id FROM auth_memberships WHERE organization_id IN (${q.organization_id.map(() => "?").join(", ")}))`);
    args.push(...q.organization_id);
  }
  if (q.banned !== undefined) {
    parts.push("u.banned = ?");
    args.push(q.banned === "true" ? 1 : 0);
  }
  if (q.query) {
    // A substring of the id, names, username, external id or any email address or phone number.
    // instr, not LIKE: workerd refuses LIKE patterns over 50 bytes, and a query may be longer.
    const needle = q.query.toLowerCase();
    const cols = ["u.id", "u.username", "u.first_name", "u.last_name", "u.external_id"].map((c) => `instr(lower(COALESCE(${c}, '')), ?) > 0`);
    parts.push(`(${cols.join(" OR ")} OR u.id IN (SELECT user_id FROM auth_identifiers WHERE instr(lower(value), ?) > 0))`);
    args.push(...cols.map(() => needle), needle);
  }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", args };
}

export function countUsers(k: Kernel, q: UserQuery): { object: "total_count"; total_count: number } {
  const w = userWhere(q);
  const n = k.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM auth_users u ${w.sql}`, ...w.args).one().n;
  return { object: "total_count", total_count: Number(n) };
}

export function pageParams(q: { limit?: string; offset?: string }, max = 500): { limit: number; offset: number } {
  const limit = q.limit === undefined ? 10 : Number(q.limit);
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw invalidParam("limit", `limit must be an integer between 1 and ${max}.`);
  if (!Number.isInteger(offset) || offset < 0) throw invalidParam("offset", "offset must be a non-negative integer.");
  return { limit, offset };
}

/** `GET /v1/users`: a bare array, newest first unless `order_by` says otherwise. */
export function listUsers(k: Kernel, q: UserQuery): Json[] {
  const { limit, offset } = pageParams(q);
  let order = q.order_by ?? "-created_at";
  const desc = order.startsWith("-");
  order = order.replace(/^[+-]/, "");
  if (!ORDERABLE.has(order)) throw invalidParam("order_by", `order_by must be one of ${[...ORDERABLE].join(", ")}, optionally prefixed with + or -.`);
  const col =
    order === "email_address" || order === "phone_number"
      ? `(SELECT value FROM auth_identifiers WHERE id = u.primary_${order}_id)`
      : order === "web3wallet"
        ? "u.id"
        : `u.${order}`;
  const w = userWhere(q);
  const dir = desc ? "DESC" : "ASC";
  // Nullable columns sort their nulls last; created_at and updated_at never are, and the plain
  // order lets SQLite walk the (created_at, seq) index instead of sorting every user.
  const nullsLast = order === "created_at" || order === "updated_at" ? "" : `${col} IS NULL, `;
  const rows = k.sql
    .exec<UserRow>(`SELECT u.* FROM auth_users u ${w.sql} ORDER BY ${nullsLast}${col} ${dir}, u.seq ${dir} LIMIT ? OFFSET ?`, ...w.args, limit, offset)
    .toArray();
  return rows.map((r) => userJson(k, r));
}

export function touchSignIn(k: Kernel, userId: string): void {
  const now = k.clock.now();
  k.sql.exec("UPDATE auth_users SET last_sign_in_at = ?, last_active_at = ? WHERE id = ?", now, now, userId);
}
