// HTTP surface of the auth clone (Clerk Backend API, `/v1/...`): decode, call the domain, encode.
// `Clerk-API-Version` is accepted whatever its value: the clone serves the 2026-05-12 shapes.
import { Hono, type Context } from "hono";
import { deferred, type Kernel, type VendorBindings, type VendorHono } from "../../kernel/types.ts";
import { clerkErrors, malformed } from "./errors.ts";
import { jwks, sign } from "./jwt.ts";
import * as users from "./users.ts";
import * as sessions from "./sessions.ts";
import * as orgs from "./orgs.ts";
import * as invites from "./invites.ts";
import * as idents from "./identifiers.ts";
import { signInPage } from "./page.ts";

type C = Context<{ Bindings: VendorBindings }>;
type Json = Record<string, unknown>;
const decoder = new TextDecoder();

function body(c: C): Json {
  const raw = decoder.decode(c.env.body).trim();
  if (raw === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw malformed();
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw malformed();
  return v as Json;
}

/** Query parameters Clerk takes as lists: repeated keys, with or without `[]`. */
const many = (c: C, name: string): string[] | undefined => {
  const v = [...(c.req.queries(name) ?? []), ...(c.req.queries(`${name}[]`) ?? [])];
  return v.length ? v : undefined;
};

function userQuery(c: C): users.UserQuery {
  const q = c.req.query();
  return {
    email_address: many(c, "email_address"),
    phone_number: many(c, "phone_number"),
    external_id: many(c, "external_id"),
    username: many(c, "username"),
    user_id: many(c, "user_id"),
    organization_id: many(c, "organization_id"),
    query: q.query,
    order_by: q.order_by,
    limit: q.limit,
    offset: q.offset,
    banned: q.banned,
  };
}

/** A signed token, answered after the request's transaction committed (signing awaits WebCrypto). */
const tokenResponse = (k: Kernel, claims: Parameters<typeof sign>[1]) =>
  deferred(async () => Response.json({ object: "token", jwt: await sign(k, claims) }));

// Resource families of the Backend API: under these, an operation not built is a 501, not a 404.
const KNOWN_ROOTS =
  /^\/v1\/(users|sessions|clients|organizations|organization_memberships|organization_invitations|invitations|sign_in_tokens|jwt_templates|email_addresses|phone_numbers|allowlist_identifiers|blocklist_identifiers|actor_tokens|domains|instance|redirect_urls|webhooks|saml_connections|enterprise_connections|oauth_applications|sign_ups|waitlist_entries|machines|m2m_tokens|api_keys|proxy_checks|beta_features|accountless_applications|agents|billing|templates|jwks|testing_tokens|public|oauth_access_tokens|organization_permissions|organization_roles|role_sets|emails|sms_messages)(\/|$)/;

export function authUnmatched(method: string, path: string): Response {
  return KNOWN_ROOTS.test(path) ? clerkErrors.notImplemented(method, path) : clerkErrors.notFound(method, path);
}

export function authRouter(k: Kernel): VendorHono {
  const root = new Hono<{ Bindings: VendorBindings }>();
  signInPage(root, k);
  const app = new Hono<{ Bindings: VendorBindings }>();
  const user = (row: users.UserRow) => users.userJson(k, row);

  app.get("/jwks", (c) => c.json(jwks(k)));
  app.post("/testing_tokens", (c) => c.json(sessions.testingToken(k)));

  // ---- users
  app.get("/users", (c) => c.json(users.listUsers(k, userQuery(c))));
  app.post("/users", (c) => c.json(user(users.createUser(k, body(c)))));
  // `/users/count` shares this route: two matching handlers would make Hono answer asynchronously.
  app.get("/users/:id", (c) => {
    const id = c.req.param("id");
    return c.json(id === "count" ? users.countUsers(k, userQuery(c)) : user(users.getUserRow(k, id)));
  });
  app.patch("/users/:id", (c) => c.json(user(users.updateUser(k, c.req.param("id"), body(c)))));
  app.delete("/users/:id", (c) => c.json(users.deleteUser(k, c.req.param("id"))));
  app.patch("/users/:id/metadata", (c) => c.json(user(users.updateMetadata(k, c.req.param("id"), body(c), "merge"))));
  app.put("/users/:id/metadata", (c) => c.json(user(users.updateMetadata(k, c.req.param("id"), body(c), "replace"))));
  app.post("/users/:id/ban", (c) => c.json(user(users.setFlag(k, c.req.param("id"), "banned", true))));
  app.post("/users/:id/unban", (c) => c.json(user(users.setFlag(k, c.req.param("id"), "banned", false))));
  app.post("/users/:id/lock", (c) => c.json(user(users.setFlag(k, c.req.param("id"), "locked", true))));
  app.post("/users/:id/unlock", (c) => c.json(user(users.setFlag(k, c.req.param("id"), "locked", false))));
  app.post("/users/:id/verify_password", (c) => c.json(users.verifyPassword(k, c.req.param("id"), body(c).password)));
  app.get("/users/:id/organization_memberships", (c) => {
    const id = users.getUserRow(k, c.req.param("id")).id;
    return c.json(orgs.listMembers(k, { ...c.req.query(), user_id: id, organization_id: undefined }));
  });

  // ---- email addresses and phone numbers
  for (const [path, type] of [["/email_addresses", "email_address"], ["/phone_numbers", "phone_number"]] as const) {
    app.post(path, (c) => c.json(idents.createIdentifier(k, type, body(c))));
    app.get(`${path}/:id`, (c) => c.json(idents.getIdentifierJson(k, type, c.req.param("id"))));
    app.patch(`${path}/:id`, (c) => c.json(idents.updateIdentifier(k, type, c.req.param("id"), body(c))));
    app.delete(`${path}/:id`, (c) => c.json(idents.deleteIdentifier(k, type, c.req.param("id"))));
  }

  // ---- sessions
  app.get("/sessions", (c) => c.json(sessions.listSessions(k, c.req.query())));
  app.post("/sessions", (c) => c.json(sessions.sessionJson(k, sessions.createSession(k, body(c).user_id))));
  app.get("/sessions/:id", (c) => c.json(sessions.sessionJson(k, sessions.getSessionRow(k, c.req.param("id")))));
  app.post("/sessions/:id/revoke", (c) => c.json(sessions.sessionJson(k, sessions.endSession(k, c.req.param("id"), "revoked"))));
  app.post("/sessions/:id/tokens", (c) => tokenResponse(k, sessions.sessionClaims(k, c.req.param("id"), body(c).expires_in_seconds)));
  app.post("/sessions/:id/tokens/:template", (c) =>
    tokenResponse(k, sessions.templateClaims(k, c.req.param("id"), c.req.param("template"), body(c).expires_in_seconds)),
  );

  app.get("/clients/:id", (c) => c.json(sessions.clientJson(k, c.req.param("id"))));

  // ---- JWT templates
  app.get("/jwt_templates", (c) => c.json(sessions.listTemplates(k)));
  app.post("/jwt_templates", (c) => c.json(sessions.templateJson(sessions.saveTemplate(k, body(c)))));
  app.get("/jwt_templates/:id", (c) => c.json(sessions.templateJson(sessions.getTemplate(k, c.req.param("id")))));
  app.patch("/jwt_templates/:id", (c) => c.json(sessions.templateJson(sessions.saveTemplate(k, body(c), sessions.getTemplate(k, c.req.param("id")).id))));
  app.delete("/jwt_templates/:id", (c) => c.json(sessions.deleteTemplate(k, c.req.param("id"))));

  // ---- organizations
  app.get("/organizations", (c) => c.json(orgs.listOrgs(k, c.req.query())));
  app.post("/organizations", (c) => c.json(orgs.orgJson(k, orgs.createOrg(k, body(c)))));
  app.get("/organizations/:id", (c) => c.json(orgs.orgJson(k, orgs.getOrg(k, c.req.param("id")))));
  app.patch("/organizations/:id", (c) => c.json(orgs.orgJson(k, orgs.updateOrg(k, c.req.param("id"), body(c), null))));
  app.delete("/organizations/:id", (c) => c.json(orgs.deleteOrg(k, c.req.param("id"))));
  app.patch("/organizations/:id/metadata", (c) => c.json(orgs.orgJson(k, orgs.updateOrg(k, c.req.param("id"), body(c), "merge"))));
  app.put("/organizations/:id/metadata", (c) => c.json(orgs.orgJson(k, orgs.updateOrg(k, c.req.param("id"), body(c), "replace"))));
  app.get("/organizations/:id/memberships", (c) => c.json(orgs.listMembers(k, { ...c.req.query(), organization_id: orgs.getOrg(k, c.req.param("id")).id })));
  app.post("/organizations/:id/memberships", (c) => {
    const b = body(c);
    return c.json(orgs.addMember(k, c.req.param("id"), b.user_id, b.role));
  });
  app.patch("/organizations/:id/memberships/:user", (c) => c.json(orgs.updateMember(k, c.req.param("id"), c.req.param("user"), body(c).role)));
  app.patch("/organizations/:id/memberships/:user/metadata", (c) => c.json(orgs.updateMemberMetadata(k, c.req.param("id"), c.req.param("user"), body(c))));
  app.delete("/organizations/:id/memberships/:user", (c) => c.json(orgs.removeMember(k, c.req.param("id"), c.req.param("user"))));
  app.get("/organizations/:id/invitations", (c) => c.json(invites.listOrgInvitations(k, c.req.param("id"), c.req.query())));
  app.post("/organizations/:id/invitations", (c) => c.json(invites.createOrgInvitation(k, c.req.param("id"), body(c))));
  app.get("/organizations/:id/invitations/:inv", (c) => c.json(invites.getOrgInvitationJson(k, c.req.param("id"), c.req.param("inv"))));
  app.post("/organizations/:id/invitations/:inv/revoke", (c) => c.json(invites.revokeOrgInvitation(k, c.req.param("id"), c.req.param("inv"))));
  app.get("/organization_memberships", (c) => c.json(orgs.listMembers(k, { ...c.req.query(), organization_id: undefined })));

  // ---- sign-in tokens and invitations
  app.post("/sign_in_tokens", (c) => c.json(invites.createSignInToken(k, body(c))));
  app.post("/sign_in_tokens/:id/revoke", (c) => c.json(invites.revokeSignInToken(k, c.req.param("id"))));
  app.get("/invitations", (c) => c.json(invites.listInvitations(k, c.req.query())));
  app.post("/invitations", (c) => c.json(invites.createInvitation(k, body(c))));
  app.post("/invitations/:id/revoke", (c) => c.json(invites.revokeInvitation(k, c.req.param("id"))));

  root.route("/v1", app);
  return root;
}
