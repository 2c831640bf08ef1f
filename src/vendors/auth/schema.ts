// Tables of the auth clone (Clerk Backend API), prefixed `auth_`.
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable(
  "auth_users",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    externalId: text("external_id"),
    username: text("username"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    passwordHash: text("password_hash"),
    passwordUpdatedAt: integer("password_updated_at"),
    primaryEmailAddressId: text("primary_email_address_id"),
    primaryPhoneNumberId: text("primary_phone_number_id"),
    publicMetadata: text("public_metadata").notNull().default("{}"),
    privateMetadata: text("private_metadata").notNull().default("{}"),
    unsafeMetadata: text("unsafe_metadata").notNull().default("{}"),
    banned: integer("banned", { mode: "boolean" }).notNull().default(false),
    locked: integer("locked", { mode: "boolean" }).notNull().default(false),
    deleteSelfEnabled: integer("delete_self_enabled", { mode: "boolean" }).notNull().default(true),
    createOrganizationEnabled: integer("create_organization_enabled", { mode: "boolean" }).notNull().default(true),
    legalAcceptedAt: integer("legal_accepted_at"),
    lastSignInAt: integer("last_sign_in_at"),
    lastActiveAt: integer("last_active_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("auth_users_seq").on(t.seq), index("auth_users_created").on(t.createdAt, t.seq), uniqueIndex("auth_users_username").on(t.username)],
);

/** Email addresses and phone numbers: one table, so an identifier is unique across users. */
export const identifiers = sqliteTable(
  "auth_identifiers",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    type: text("type").notNull(),
    value: text("value").notNull(),
    verified: integer("verified", { mode: "boolean" }).notNull().default(true),
    reserved: integer("reserved", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("auth_identifiers_value").on(t.type, t.value), index("auth_identifiers_user").on(t.userId)],
);

export const sessions = sqliteTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    userId: text("user_id").notNull(),
    clientId: text("client_id").notNull(),
    status: text("status").notNull(),
    lastActiveOrganizationId: text("last_active_organization_id"),
    azp: text("azp"),
    lastActiveAt: integer("last_active_at").notNull(),
    expireAt: integer("expire_at").notNull(),
    abandonAt: integer("abandon_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("auth_sessions_user").on(t.userId, t.seq)],
);

export const jwtTemplates = sqliteTable("auth_jwt_templates", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  claims: text("claims").notNull(),
  lifetime: integer("lifetime").notNull(),
  allowedClockSkew: integer("allowed_clock_skew").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const organizations = sqliteTable("auth_organizations", {
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  createdBy: text("created_by"),
  maxAllowedMemberships: integer("max_allowed_memberships").notNull().default(0),
  publicMetadata: text("public_metadata").notNull().default("{}"),
  privateMetadata: text("private_metadata").notNull().default("{}"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const memberships = sqliteTable(
  "auth_memberships",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    organizationId: text("organization_id").notNull(),
    userId: text("user_id").notNull(),
    role: text("role").notNull(),
    publicMetadata: text("public_metadata").notNull().default("{}"),
    privateMetadata: text("private_metadata").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("auth_memberships_pair").on(t.organizationId, t.userId), index("auth_memberships_user").on(t.userId)],
);

export const signInTokens = sqliteTable("auth_sign_in_tokens", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  token: text("token").notNull().unique(),
  status: text("status").notNull(),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Application invitations, and organization invitations (with `organization_id` and `role`). */
export const invitations = sqliteTable("auth_invitations", {
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  organizationId: text("organization_id"),
  role: text("role"),
  inviterId: text("inviter_id"),
  emailAddress: text("email_address").notNull(),
  status: text("status").notNull(),
  publicMetadata: text("public_metadata").notNull().default("{}"),
  privateMetadata: text("private_metadata").notNull().default("{}"),
  expiresAt: integer("expires_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** One-time codes sent by the sign-in page (sign-in and password reset); expiry on the run clock. */
export const verifications = sqliteTable("auth_verifications", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  identifierId: text("identifier_id").notNull(),
  purpose: text("purpose").notNull(),
  code: text("code").notNull(),
  attempts: integer("attempts").notNull().default(0),
  status: text("status").notNull(),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
});
