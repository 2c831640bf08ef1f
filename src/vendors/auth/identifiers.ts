// Email addresses and phone numbers as their own resources (`/v1/email_addresses`,
// `/v1/phone_numbers`): add, verify, make primary, delete. Every change is a `user.updated`.
import type { Kernel } from "../../kernel/types.ts";
import { formError, invalidParam, notFound } from "./errors.ts";
import { addIdentifier, getUserRow, identifierJson, normalizeEmail, normalizePhone, writeUser, type IdentifierRow } from "./users.ts";

type Json = Record<string, unknown>;
type Type = IdentifierRow["type"];

const primaryColumn = (type: Type) => (type === "email_address" ? "primary_email_address_id" : "primary_phone_number_id");

function getIdentifier(k: Kernel, type: Type, id: string): IdentifierRow {
  const r = k.sql.exec<IdentifierRow>("SELECT * FROM auth_identifiers WHERE id = ? AND type = ?", id, type).toArray()[0];
  if (!r) throw notFound();
  return r;
}

const bool = (v: unknown, param: string): boolean | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidParam(param, `${param} must be a boolean.`);
  return v;
};

export const getIdentifierJson = (k: Kernel, type: Type, id: string) => identifierJson(getIdentifier(k, type, id));

/** `POST /v1/email_addresses` / `POST /v1/phone_numbers`: verified unless `verified: false`. */
export function createIdentifier(k: Kernel, type: Type, b: Json): Json {
  if (typeof b.user_id !== "string") throw formError("form_param_missing", "user_id", "missing data", "user_id must be included.");
  const u = getUserRow(k, b.user_id);
  const value = type === "email_address" ? normalizeEmail(b.email_address) : normalizePhone(b.phone_number);
  const verified = bool(b.verified, "verified") ?? true;
  const id = addIdentifier(k, u.id, type, value, verified);
  const col = primaryColumn(type);
  const makePrimary = bool(b.primary, "primary") === true || u[col] === null;
  writeUser(k, u, makePrimary ? { [col]: id } : {});
  return getIdentifierJson(k, type, id);
}

/** `PATCH`: `verified` and `primary`. */
export function updateIdentifier(k: Kernel, type: Type, id: string, b: Json): Json {
  const r = getIdentifier(k, type, id);
  const verified = bool(b.verified, "verified");
  const primary = bool(b.primary, "primary");
  if (verified !== undefined) k.sql.exec("UPDATE auth_identifiers SET verified = ?, updated_at = ? WHERE id = ?", verified ? 1 : 0, k.clock.now(), id);
  writeUser(k, getUserRow(k, r.user_id), primary ? { [primaryColumn(type)]: id } : {});
  return getIdentifierJson(k, type, id);
}

/** `DELETE`: the next identifier of its kind, if any, becomes primary. */
export function deleteIdentifier(k: Kernel, type: Type, id: string): Json {
  const r = getIdentifier(k, type, id);
  k.sql.exec("DELETE FROM auth_identifiers WHERE id = ?", id);
  const u = getUserRow(k, r.user_id);
  const col = primaryColumn(type);
  const next = k.sql.exec<{ id: string }>("SELECT id FROM auth_identifiers WHERE user_id = ? AND type = ? ORDER BY created_at, id LIMIT 1", u.id, type).toArray()[0];
  writeUser(k, u, u[col] === id ? { [col]: next?.id ?? null } : {});
  return { object: type, id, deleted: true };
}
