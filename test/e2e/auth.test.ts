// The auth clone (Clerk) through @clerk/backend, @clerk/testing, @hono/clerk-auth and verifyWebhook.
import { describe, expect, it, beforeAll, afterAll, vi } from "vitest";
import { createClerkClient, verifyToken, type ClerkClient } from "@clerk/backend";
import { verifyWebhook } from "@clerk/backend/webhooks";
import { clerkSetup } from "@clerk/testing/playwright";
import { Hono } from "hono";
import { clerkMiddleware, getAuth } from "@hono/clerk-auth";
import { admin, advance, receiver, spawn, type Run } from "./helpers.ts";

const clerkOf = (run: Run) => createClerkClient({ secretKey: run.clones.auth.secretKey, apiUrl: run.clones.auth.url, publishableKey: run.clones.auth.publishableKey });

/** The Clerk error an SDK call threw: its status and first error. */
async function clerkFailure(p: Promise<unknown>): Promise<{ status: number; code: string; message: string; meta: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status: number; errors: { code: string; message: string; meta: Record<string, unknown> }[] };
    return { status: err.status, code: err.errors[0]?.code, message: err.errors[0]?.message, meta: err.errors[0]?.meta ?? {} };
  }
  throw new Error("expected the call to fail");
}

/** Runs `fn` with the process's wall clock `ms` ahead: how a verifier sees a token once its lifetime has passed. */
async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + ms });
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

describe("auth clone (Clerk) through @clerk/backend", () => {
  let run: Run;
  let clerk: ClerkClient;
  beforeAll(async () => {
    run = await spawn({ kinds: ["auth"] });
    clerk = clerkOf(run);
  });

  it("creates, gets, updates and deletes users with Clerk's shapes", async () => {
    const u = await clerk.users.createUser({
      emailAddress: ["ada@acme.test"],
      phoneNumber: ["+15555550123"],
      username: "ada_l",
      password: "correct-horse-battery",
      externalId: "ext-1",
      firstName: "Ada",
      lastName: "Lovelace",
      publicMetadata: { plan: "pro" },
    });
    expect(u.id).toMatch(/^user_[A-Za-z0-9]{27}$/);
    expect(u.fullName).toBe("Ada Lovelace");
    expect(u.primaryEmailAddress?.emailAddress).toBe("ada@acme.test");
    expect(u.primaryEmailAddress?.verification?.status).toBe("verified");
    expect(u.primaryPhoneNumber?.phoneNumber).toBe("+15555550123");
    expect(u).toMatchObject({ username: "ada_l", externalId: "ext-1", passwordEnabled: true, banned: false, locked: false, publicMetadata: { plan: "pro" } });
    expect(typeof u.createdAt).toBe("number");

    const got = await clerk.users.getUser(u.id);
    expect(got.id).toBe(u.id);
    expect(got.raw).toMatchObject({ object: "user", email_addresses: [{ object: "email_address", email_address: "ada@acme.test" }] });

    const updated = await clerk.users.updateUser(u.id, { firstName: "Augusta", username: "augusta" });
    expect(updated).toMatchObject({ firstName: "Augusta", username: "augusta", lastName: "Lovelace" });
    expect(updated.updatedAt).toBeGreaterThanOrEqual(u.updatedAt);

    const deleted = await clerk.users.deleteUser(u.id);
    expect(deleted).toMatchObject({ object: "user", id: u.id, deleted: true });
    expect(await clerkFailure(clerk.users.getUser(u.id))).toMatchObject({ status: 404, code: "resource_not_found" });
    expect(await clerkFailure(clerk.users.updateUser(u.id, { firstName: "x" }))).toMatchObject({ status: 404, code: "resource_not_found" });
  });

  it("refuses duplicate identifiers and weak passwords with Clerk's form errors", async () => {
    await clerk.users.createUser({ emailAddress: ["dup@acme.test"], phoneNumber: ["+15555550150"], username: "taken_name" });
    expect(await clerkFailure(clerk.users.createUser({ emailAddress: ["DUP@acme.test"] }))).toMatchObject({
      status: 422, code: "form_identifier_exists", message: "That email address is taken. Please try another.", meta: { paramName: "email_address" },
    });
    expect(await clerkFailure(clerk.users.createUser({ phoneNumber: ["+15555550150"] }))).toMatchObject({ status: 422, code: "form_identifier_exists", meta: { paramName: "phone_number" } });
    expect(await clerkFailure(clerk.users.createUser({ username: "taken_name" }))).toMatchObject({ status: 422, code: "form_identifier_exists", meta: { paramName: "username" } });
    expect(await clerkFailure(clerk.users.createUser({ emailAddress: ["short@acme.test"], password: "short" }))).toMatchObject({
      status: 422, code: "form_password_length_too_short", meta: { paramName: "password" },
    });
    expect(await clerkFailure(clerk.users.createUser({ emailAddress: ["pwned@acme.test"], password: "password123" }))).toMatchObject({ status: 422, code: "form_password_pwned" });
    expect(await clerkFailure(clerk.users.createUser({ emailAddress: ["not-an-email"] }))).toMatchObject({ status: 422, code: "form_param_format_invalid" });
    // A failed create rolled back: the address it would have taken is still free.
    expect((await clerk.users.createUser({ emailAddress: ["short@acme.test"], password: "long enough pass" })).primaryEmailAddress?.emailAddress).toBe("short@acme.test");
    // skip_password_checks lets a short password through, as at Clerk.
    expect((await clerk.users.createUser({ emailAddress: ["skip@acme.test"], password: "abc", skipPasswordChecks: true })).passwordEnabled).toBe(true);
  });

  it("adds, verifies, makes primary and deletes email addresses and phone numbers", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["first@acme.test"] });
    const second = await clerk.emailAddresses.createEmailAddress({ userId: u.id, emailAddress: "second@acme.test", verified: false });
    expect(second).toMatchObject({ emailAddress: "second@acme.test" });
    expect(second.verification?.status).toBe("unverified");
    expect(await clerkFailure(clerk.emailAddresses.createEmailAddress({ userId: u.id, emailAddress: "first@acme.test" }))).toMatchObject({ status: 422, code: "form_identifier_exists" });
    expect((await clerk.emailAddresses.updateEmailAddress(second.id, { verified: true })).verification?.status).toBe("verified");
    await clerk.emailAddresses.updateEmailAddress(second.id, { primary: true });
    expect((await clerk.users.getUser(u.id)).primaryEmailAddress?.emailAddress).toBe("second@acme.test");
    expect((await clerk.emailAddresses.getEmailAddress(second.id)).id).toBe(second.id);
    const phone = await clerk.phoneNumbers.createPhoneNumber({ userId: u.id, phoneNumber: "+15555550177" });
    expect((await clerk.users.getUser(u.id)).primaryPhoneNumberId).toBe(phone.id);
    expect(await clerk.emailAddresses.deleteEmailAddress(second.id)).toMatchObject({ id: second.id, deleted: true });
    const after = await clerk.users.getUser(u.id);
    expect(after.emailAddresses.map((e) => e.emailAddress)).toEqual(["first@acme.test"]);
    expect(after.primaryEmailAddress?.emailAddress).toBe("first@acme.test");
    expect(await clerkFailure(clerk.phoneNumbers.createPhoneNumber({ userId: u.id, phoneNumber: "555" }))).toMatchObject({ status: 422, code: "form_param_format_invalid" });
  });

  it("verifies passwords, bans and locks", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["pw@acme.test"], password: "hunter2-hunter2" });
    expect(await clerk.users.verifyPassword({ userId: u.id, password: "hunter2-hunter2" })).toEqual({ verified: true });
    expect(await clerkFailure(clerk.users.verifyPassword({ userId: u.id, password: "wrong-password" }))).toMatchObject({ status: 422, code: "form_password_incorrect" });
    const noPw = await clerk.users.createUser({ emailAddress: ["nopw@acme.test"] });
    expect(noPw.passwordEnabled).toBe(false);
    expect(await clerkFailure(clerk.users.verifyPassword({ userId: noPw.id, password: "anything-at-all" }))).toMatchObject({ status: 400 });

    const s = await clerk.sessions.createSession({ userId: u.id });
    expect((await clerk.users.banUser(u.id)).banned).toBe(true);
    expect((await clerk.sessions.getSession(s.id)).status).toBe("revoked");
    expect(await clerkFailure(clerk.sessions.createSession({ userId: u.id }))).toMatchObject({ status: 403, code: "user_banned" });
    expect((await clerk.users.unbanUser(u.id)).banned).toBe(false);
    expect((await clerk.users.lockUser(u.id)).locked).toBe(true);
    expect(await clerkFailure(clerk.sessions.createSession({ userId: u.id }))).toMatchObject({ status: 403, code: "user_locked" });
    expect((await clerk.users.unlockUser(u.id)).locked).toBe(false);
  });

  it("lists users with filters, ordering, limit/offset, and getUserList's count", async () => {
    const r = await spawn({ kinds: ["auth"] });
    const c = clerkOf(r);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await c.users.createUser({ emailAddress: [`u${i}@acme.test`], username: `user_${i}`, firstName: i % 2 ? "Odd" : "Even", externalId: `x${i}` })).id);
    }
    const all = await c.users.getUserList();
    expect(all.totalCount).toBe(5);
    expect(all.data.map((u) => u.id)).toEqual([...ids].reverse());

    const page = await c.users.getUserList({ limit: 2, offset: 1 });
    expect(page.data.map((u) => u.id)).toEqual([ids[3], ids[2]]);
    expect(page.totalCount).toBe(5);

    const oldest = await c.users.getUserList({ orderBy: "+created_at", limit: 2 });
    expect(oldest.data.map((u) => u.id)).toEqual([ids[0], ids[1]]);
    const byName = await c.users.getUserList({ orderBy: "-username", limit: 1 });
    expect(byName.data[0].username).toBe("user_4");

    const byEmail = await c.users.getUserList({ emailAddress: ["u1@acme.test", "U3@acme.test"] });
    expect(byEmail.data.map((u) => u.id).sort()).toEqual([ids[1], ids[3]].sort());
    expect(byEmail.totalCount).toBe(2);
    expect((await c.users.getUserList({ externalId: ["x2"] })).data.map((u) => u.id)).toEqual([ids[2]]);
    expect((await c.users.getUserList({ userId: [ids[0], ids[4]] })).totalCount).toBe(2);
    const odd = await c.users.getUserList({ query: "odd" });
    expect(odd.totalCount).toBe(2);
    expect(odd.data.every((u) => u.firstName === "Odd")).toBe(true);
    expect(await c.users.getCount({ query: "acme" })).toBe(5);

    expect(await clerkFailure(c.users.getUserList({ limit: 501 }))).toMatchObject({ status: 422, code: "form_param_format_invalid" });
  });

  it("merges metadata deeply (null removes) and replaces it with PUT", async () => {
    const u = await clerk.users.createUser({
      emailAddress: ["meta@acme.test"],
      publicMetadata: { plan: "free", limits: { seats: 1, projects: 3 }, tags: ["a"] },
      privateMetadata: { stripeId: "cus_1" },
    });
    const merged = await clerk.users.updateUserMetadata(u.id, { publicMetadata: { limits: { seats: 5, projects: null }, tags: ["b"], beta: true } });
    expect(merged.publicMetadata).toEqual({ plan: "free", limits: { seats: 5 }, tags: ["b"], beta: true });
    expect(merged.privateMetadata).toEqual({ stripeId: "cus_1" });

    const unsafe = await clerk.users.updateUserMetadata(u.id, { unsafeMetadata: { theme: "dark" } });
    expect(unsafe.unsafeMetadata).toEqual({ theme: "dark" });
    expect(unsafe.publicMetadata).toEqual(merged.publicMetadata);

    const replaced = await clerk.users.replaceUserMetadata(u.id, { publicMetadata: { plan: "team" } });
    expect(replaced.publicMetadata).toEqual({ plan: "team" });
    expect(replaced.privateMetadata).toEqual({ stripeId: "cus_1" });
    expect((await clerk.users.replaceUserMetadata(u.id, { privateMetadata: {} })).privateMetadata).toEqual({});
  });

  it("mints session tokens that verify through the JWKS and through the run's PEM", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["tok@acme.test"] });
    const s = await clerk.sessions.createSession({ userId: u.id });
    expect(s.id).toMatch(/^sess_/);
    expect(s).toMatchObject({ userId: u.id, status: "active" });
    expect(s.clientId).toMatch(/^client_/);
    expect(s.expireAt - s.createdAt).toBe(7 * 86_400_000);

    const { jwt } = await clerk.sessions.getToken(s.id);
    const [header, payload] = jwt.split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(header.kid).toMatch(/^ins_/);
    expect(payload).toMatchObject({ sub: u.id, sid: s.id, iss: expect.stringMatching(/^https:\/\/clerk\./), azp: expect.any(String), v: 2 });
    expect(payload.exp - payload.iat).toBe(60);
    expect(payload.nbf).toBeLessThanOrEqual(payload.iat);
    expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(10);

    const viaJwks = await verifyToken(jwt, { secretKey: run.clones.auth.secretKey, apiUrl: run.clones.auth.url });
    expect(viaJwks).toMatchObject({ sub: u.id, sid: s.id });
    const viaPem = await verifyToken(jwt, { jwtKey: run.clones.auth.jwtKey });
    expect(viaPem).toMatchObject({ sub: u.id, sid: s.id });

    const jwks = await clerk.jwks.getJwks();
    expect(jwks.keys?.[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: header.kid, e: "AQAB" });

    // A token of another run does not verify with this run's key.
    const other = await spawn({ kinds: ["auth"] });
    await expect(verifyToken(jwt, { jwtKey: other.clones.auth.jwtKey })).rejects.toThrow(/signature/i);

    const client = await clerk.clients.getClient(s.clientId);
    expect(client).toMatchObject({ id: s.clientId, sessionIds: [s.id], lastActiveSessionId: s.id });
    const listed = await clerk.sessions.getSessionList({ userId: u.id });
    expect(listed.totalCount).toBe(1);
    expect(listed.data[0].id).toBe(s.id);
    expect((await clerk.sessions.getSession(s.id)).lastActiveAt).toBeGreaterThanOrEqual(s.lastActiveAt);
  });

  it("mints no token after revoke, nor once the run clock passes the session's lifetime; old tokens sign out after 60 s", async () => {
    const r = await spawn({ kinds: ["auth"] });
    const c = clerkOf(r);
    const u = await c.users.createUser({ emailAddress: ["life@acme.test"] });
    const revoked = await c.sessions.createSession({ userId: u.id });
    const { jwt: old } = await c.sessions.getToken(revoked.id);
    expect((await c.sessions.revokeSession(revoked.id)).status).toBe("revoked");
    expect(await clerkFailure(c.sessions.getToken(revoked.id))).toMatchObject({ status: 404, code: "resource_not_found" });

    const expiring = await c.sessions.createSession({ userId: u.id });
    await c.sessions.getToken(expiring.id);
    await advance(r, "6d23h");
    expect((await c.sessions.getToken(expiring.id)).jwt).toBeTruthy();
    await advance(r, "2h");
    expect((await c.sessions.getSession(expiring.id)).status).toBe("expired");
    expect(await clerkFailure(c.sessions.getToken(expiring.id))).toMatchObject({ status: 401, code: "session_expired" });
    expect((await c.sessions.getSessionList({ userId: u.id, status: "active" })).totalCount).toBe(0);

    // The session_expired preset: the next session call answers Clerk's 401.
    const fresh = await c.sessions.createSession({ userId: u.id });
    expect((await admin(r, "POST", "/chaos/presets/auth/session_expired", { times: 1 })).status).toBeLessThan(300);
    expect(await clerkFailure(c.sessions.getToken(fresh.id))).toMatchObject({ status: 401, code: "session_expired" });
    expect((await c.sessions.getToken(fresh.id)).jwt).toBeTruthy();

    // The token minted before the revoke is a plain JWT: valid for its 60 s (plus the verifier's 5 s skew), signed out after.
    const request = () => new Request("http://app.test/dashboard", { headers: { authorization: `Bearer ${old}` } });
    const clerkPem = createClerkClient({ secretKey: r.clones.auth.secretKey, publishableKey: r.clones.auth.publishableKey, jwtKey: r.clones.auth.jwtKey });
    expect((await clerkPem.authenticateRequest(request())).status).toBe("signed-in");
    const after = await later(66_000, () => clerkPem.authenticateRequest(request()));
    expect(after.status).toBe("signed-out");
    expect(after.reason).toMatch(/expired/i);
  });

  it("mints per-template tokens from JWT templates with shortcodes resolved", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["tpl@acme.test"], firstName: "Tem", publicMetadata: { role: "editor" } });
    const t = await clerk.jwtTemplates.create({ name: "supabase", claims: { role: "authenticated", email: "{{user.primary_email_address}}", meta: "{{user.public_metadata}}", hello: "hi {{user.first_name}}" }, lifetime: 120 });
    expect(t).toMatchObject({ name: "supabase", lifetime: 120 });
    expect(await clerkFailure(clerk.jwtTemplates.create({ name: "supabase", claims: {} }))).toMatchObject({ status: 422, code: "form_identifier_exists" });
    const s = await clerk.sessions.createSession({ userId: u.id });
    const { jwt } = await clerk.sessions.getToken(s.id, "supabase");
    const claims = await verifyToken(jwt, { jwtKey: run.clones.auth.jwtKey });
    expect(claims).toMatchObject({ sub: u.id, role: "authenticated", email: "tpl@acme.test", meta: { role: "editor" }, hello: "hi Tem" });
    expect(claims.exp - claims.iat).toBe(120);
    expect(await clerkFailure(clerk.sessions.getToken(s.id, "nope"))).toMatchObject({ status: 404, code: "resource_not_found" });
  });

  it("carries the active organization in the token's org claims", async () => {
    const owner = await clerk.users.createUser({ emailAddress: ["owner@acme.test"] });
    const member = await clerk.users.createUser({ emailAddress: ["member@acme.test"] });
    const org = await clerk.organizations.createOrganization({ name: "Acme Inc", createdBy: owner.id });
    expect(org).toMatchObject({ name: "Acme Inc", slug: "acme-inc" });
    expect(org.id).toMatch(/^org_/);
    const m = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.id, role: "org:member" });
    expect(m).toMatchObject({ role: "org:member" });
    expect(m.publicUserData?.userId).toBe(member.id);
    const meta = await clerk.organizations.updateOrganizationMembershipMetadata({ organizationId: org.id, userId: member.id, publicMetadata: { seat: 1, team: { a: 1 } } });
    expect(meta.publicMetadata).toEqual({ seat: 1, team: { a: 1 } });
    expect((await clerk.organizations.updateOrganizationMembershipMetadata({ organizationId: org.id, userId: member.id, publicMetadata: { team: { b: 2 }, seat: null } })).publicMetadata).toEqual({ team: { a: 1, b: 2 } });
    const list = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
    expect(list.totalCount).toBe(2);
    expect(await clerkFailure(clerk.organizations.createOrganization({ name: "Other", slug: "acme-inc" }))).toMatchObject({ status: 422, code: "form_identifier_exists" });
    expect((await clerk.users.getOrganizationMembershipList({ userId: owner.id })).data[0].role).toBe("org:admin");
    expect((await clerk.users.getUserList({ organizationId: [org.id] })).data.map((x) => x.id).sort()).toEqual([owner.id, member.id].sort());

    const shortcut = await admin(run, "POST", "/auth/session_token", { userId: owner.id, organizationId: org.id });
    expect(shortcut.status).toBe(200);
    const claims = await verifyToken(shortcut.json.token, { jwtKey: run.clones.auth.jwtKey });
    expect(claims).toMatchObject({ sub: owner.id, o: { id: org.id, rol: "admin", slg: "acme-inc" } });
    const authed = await createClerkClient({ secretKey: run.clones.auth.secretKey, publishableKey: run.clones.auth.publishableKey, jwtKey: run.clones.auth.jwtKey }).authenticateRequest(
      new Request("http://app.test/", { headers: { authorization: `Bearer ${shortcut.json.token}` } }),
    );
    expect(authed.toAuth()).toMatchObject({ userId: owner.id, orgId: org.id, orgRole: "org:admin", orgSlug: "acme-inc" });
    // Via the Backend API the session's active organization carries into every token it mints.
    const { jwt } = await clerk.sessions.getToken(shortcut.json.sessionId);
    expect(await verifyToken(jwt, { jwtKey: run.clones.auth.jwtKey })).toMatchObject({ o: { id: org.id } });
    expect((await clerk.organizations.getOrganization({ slug: "acme-inc" })).id).toBe(org.id);

    const inv = await clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: "invitee@acme.test", role: "org:member", inviterUserId: owner.id });
    expect(inv).toMatchObject({ emailAddress: "invitee@acme.test", role: "org:member", status: "pending", organizationId: org.id });
    expect((await admin(run, "GET", "/inbox?to=invitee@acme.test")).json.data[0].subject).toContain("Acme Inc");
    expect(await clerkFailure(clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: "member@acme.test", role: "org:member" }))).toMatchObject({ status: 400, code: "already_a_member_in_organization" });
    expect((await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id })).totalCount).toBe(1);
    expect((await clerk.organizations.revokeOrganizationInvitation({ organizationId: org.id, invitationId: inv.id })).status).toBe("revoked");
    expect((await clerk.organizations.deleteOrganization(org.id))).toMatchObject({ id: org.id, deleted: true });
  });

  it("hands browser tests a ready session token from the admin API", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["browser@acme.test"] });
    const r = await admin(run, "POST", "/auth/session_token", { userId: u.id, origin: "http://localhost:5173" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ userId: u.id, sessionId: expect.stringMatching(/^sess_/), cookie: `__session=${r.json.token}` });
    const claims = await verifyToken(r.json.token, { secretKey: run.clones.auth.secretKey, apiUrl: run.clones.auth.url, authorizedParties: ["http://localhost:5173"] });
    expect(claims).toMatchObject({ sub: u.id, azp: "http://localhost:5173" });
    // The cookie path of a development instance: signed in now; once the token's 60 s are past an
    // API call is signed out and a page navigation is sent to the handshake (to refresh it), as at Clerk.
    const app = createClerkClient({ secretKey: run.clones.auth.secretKey, publishableKey: run.clones.auth.publishableKey, jwtKey: run.clones.auth.jwtKey });
    const withCookies = (headers: Record<string, string> = {}) => new Request("http://localhost:5173/api/me", { headers: { cookie: r.json.cookieHeader, ...headers } });
    const now = await app.authenticateRequest(withCookies());
    expect(now.status).toBe("signed-in");
    expect(now.toAuth()).toMatchObject({ userId: u.id, sessionId: r.json.sessionId });
    expect((await later(66_000, () => app.authenticateRequest(withCookies()))).status).toBe("signed-out");
    expect((await later(66_000, () => app.authenticateRequest(withCookies({ "sec-fetch-dest": "document" })))).status).toBe("handshake");

    expect((await admin(run, "POST", "/auth/session_token", { userId: "user_missing" })).json).toMatchObject({ error: { code: "resource_not_found" } });
    expect((await admin(run, "POST", "/auth/session_token", {})).status).toBe(422);
  });

  it("serves testing tokens to clerkSetup() from @clerk/testing via CLERK_API_URL", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.CLERK_TESTING_TOKEN;
      delete process.env.CLERK_FAPI;
      process.env.CLERK_API_URL = run.env.CLERK_API_URL;
      process.env.CLERK_SECRET_KEY = run.env.CLERK_SECRET_KEY;
      process.env.CLERK_PUBLISHABLE_KEY = run.env.CLERK_PUBLISHABLE_KEY;
      await clerkSetup({ dotenv: false });
      expect(process.env.CLERK_TESTING_TOKEN).toMatch(/^\d+-[A-Za-z0-9]+$/);
      expect(process.env.CLERK_FAPI).toMatch(/^clerk\.[0-9a-f]{32}\.molar\.localhost$/);
    } finally {
      process.env = saved;
    }
    const t = await clerk.testingTokens.createTestingToken();
    expect(t).toMatchObject({ object: "testing_token", token: expect.any(String), expires_at: expect.any(Number) });
  });

  it("authenticates a Hono app's request through @hono/clerk-auth", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["hono@acme.test"] });
    const s = await clerk.sessions.createSession({ userId: u.id });
    const { jwt } = await clerk.sessions.getToken(s.id);
    const app = new Hono();
    app.use("*", clerkMiddleware({ secretKey: run.clones.auth.secretKey, publishableKey: run.clones.auth.publishableKey, apiUrl: run.clones.auth.url }));
    app.get("/me", async (c) => {
      const auth = getAuth(c);
      if (!auth?.userId) return c.json({ error: "signed out" }, 401);
      const user = await c.get("clerk").users.getUser(auth.userId);
      return c.json({ userId: auth.userId, sessionId: auth.sessionId, email: user.primaryEmailAddress?.emailAddress });
    });
    const ok = await app.request("http://app.test/me", { headers: { authorization: `Bearer ${jwt}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ userId: u.id, sessionId: s.id, email: "hono@acme.test" });
    const forged = await app.request("http://app.test/me", { headers: { authorization: `Bearer ${jwt.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
  });

  it("issues sign-in tokens and invitations, the invitation email landing in the run inbox", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["ticket@acme.test"] });
    const t = await clerk.signInTokens.createSignInToken({ userId: u.id, expiresInSeconds: 3600 });
    expect(t).toMatchObject({ userId: u.id, status: "pending" });
    expect(t.url).toContain(t.token);
    expect((await clerk.signInTokens.revokeSignInToken(t.id)).status).toBe("revoked");

    const inv = await clerk.invitations.createInvitation({ emailAddress: "newcomer@acme.test", publicMetadata: { team: "a" } });
    expect(inv).toMatchObject({ emailAddress: "newcomer@acme.test", status: "pending", publicMetadata: { team: "a" } });
    expect(await clerkFailure(clerk.invitations.createInvitation({ emailAddress: "ticket@acme.test" }))).toMatchObject({ status: 422, code: "form_identifier_exists" });
    const inbox = await admin(run, "GET", "/inbox?to=newcomer@acme.test");
    expect(inbox.json.data).toHaveLength(1);
    expect(inbox.json.data[0].text).toContain(inv.url);
    const list = await clerk.invitations.getInvitationList();
    expect(list.data.map((i) => i.id)).toContain(inv.id);
    expect((await clerk.invitations.revokeInvitation(inv.id)).status).toBe("revoked");
  });

  it("restores users and sessions from a snapshot, the run's key unchanged", async () => {
    const r = await spawn({ kinds: ["auth"] });
    const c = clerkOf(r);
    const u = await c.users.createUser({ emailAddress: ["snap@acme.test"], password: "snap-password-1" });
    const s = await c.sessions.createSession({ userId: u.id });
    const snap = await admin(r, "POST", "/snapshots", { label: "signed-in" });
    expect(snap.json.counts.auth).toMatchObject({ user: 1, session: 1, identifier: 1 });
    await c.users.deleteUser(u.id);
    expect(await clerkFailure(c.sessions.getToken(s.id))).toMatchObject({ status: 404 });
    expect((await admin(r, "POST", `/snapshots/${snap.json.id}/restore`)).status).toBe(200);
    expect((await c.users.getUser(u.id)).primaryEmailAddress?.emailAddress).toBe("snap@acme.test");
    expect(await c.users.verifyPassword({ userId: u.id, password: "snap-password-1" })).toEqual({ verified: true });
    const { jwt } = await c.sessions.getToken(s.id);
    expect((await verifyToken(jwt, { jwtKey: r.clones.auth.jwtKey })).sid).toBe(s.id);
  });

  it("answers Clerk's shapes on the wire: 401 bad key, 404 unknown route, 501 for what is not built", async () => {
    const base = run.clones.auth.url;
    const bad = await fetch(`${base}/v1/users`, { headers: { authorization: "Bearer sk_test_nope" } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ errors: [{ code: "authentication_invalid" }], clerk_trace_id: expect.any(String) });
    const auth = { authorization: `Bearer ${run.clones.auth.secretKey}`, "clerk-api-version": "2026-05-12" };
    const unknown = await fetch(`${base}/v1/nothing_here`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0].code).toBe("resource_not_found");
    const unbuilt = await fetch(`${base}/v1/allowlist_identifiers`, { headers: auth });
    expect(unbuilt.status).toBe(501);
    expect(await unbuilt.json()).toMatchObject({ errors: [{ code: "not_implemented", message: expect.any(String), long_message: expect.any(String) }] });
    expect(await clerkFailure(clerk.allowlistIdentifiers.getAllowlistIdentifierList())).toMatchObject({ status: 501, code: "not_implemented" });
    const malformed = await fetch(`${base}/v1/users`, { method: "POST", headers: auth, body: "{nope" });
    expect(malformed.status).toBe(400);
  });
});

describe("auth clone sign-in page for browser tests", () => {
  let run: Run;
  let clerk: ClerkClient;
  let page: string;
  const app = "http://localhost:5173/after-sign-in";
  beforeAll(async () => {
    run = await spawn({ kinds: ["auth"] });
    clerk = clerkOf(run);
    const worldId = Buffer.from(run.clones.auth.publishableKey.slice("pk_test_".length), "base64").toString().split(".")[1];
    page = `${run.clones.auth.url}/molar/${worldId}`;
  });

  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${page}${path}`, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });
  const verificationOf = (html: string) => /name="verification_id" value="([^"]+)"/.exec(html)?.[1] ?? "";
  /** The session token a successful sign-in hands the app: in the redirect and as a cookie. */
  async function handedToken(r: Response): Promise<string> {
    expect(r.status).toBe(303);
    const to = new URL(r.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(app);
    const jwt = to.searchParams.get("__session")!;
    expect(r.headers.get("set-cookie")).toContain(`__session=${jwt}`);
    return jwt;
  }

  it("signs in with a password and hands the app a __session token", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["page@acme.test"], password: "page-password-1" });
    const form = await fetch(`${page}/sign-in?redirect_url=${encodeURIComponent(app)}`);
    expect(form.status).toBe(200);
    expect(form.headers.get("content-type")).toContain("text/html");
    expect(await form.text()).toContain('name="identifier"');
    const wrong = await post("/sign-in", { identifier: "page@acme.test", password: "nope-nope-nope", strategy: "password", redirect_url: app });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain('data-code="form_password_incorrect"');
    const unknown = await post("/sign-in", { identifier: "nobody@acme.test", password: "x", strategy: "password" });
    expect(await unknown.text()).toContain('data-code="form_identifier_not_found"');

    const signedIn = await post("/sign-in", { identifier: "page@acme.test", password: "page-password-1", strategy: "password", redirect_url: app });
    expect(signedIn.headers.getSetCookie().map((c) => c.split("=")[0]).sort()).toEqual(["__clerk_db_jwt", "__client_uat", "__session"]);
    const jwt = await handedToken(signedIn);
    const claims = await verifyToken(jwt, { jwtKey: run.clones.auth.jwtKey, authorizedParties: ["http://localhost:5173"] });
    expect(claims.sub).toBe(u.id);
    expect(new URL(signedIn.headers.get("location")!).searchParams.get("__clerk_session_id")).toBe(claims.sid);
    const state = await createClerkClient({ secretKey: run.clones.auth.secretKey, publishableKey: run.clones.auth.publishableKey, apiUrl: run.clones.auth.url }).authenticateRequest(
      new Request("http://localhost:5173/dashboard", { headers: { authorization: `Bearer ${jwt}` } }),
      { authorizedParties: ["http://localhost:5173"] },
    );
    expect(state.toAuth()).toMatchObject({ userId: u.id, sessionId: claims.sid });

    const out = await post("/sign-out", { session_id: claims.sid as string, redirect_url: app });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().some((c) => c.startsWith("__session=;"))).toBe(true);
    expect((await clerk.sessions.getSession(claims.sid as string)).status).toBe("ended");
    expect(await clerkFailure(clerk.sessions.getToken(claims.sid as string))).toMatchObject({ status: 404 });
  });

  it("sends codes to the run inbox, with Clerk's test identifiers taking 424242", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["otp@acme.test"], phoneNumber: ["+15555550199"] });
    const sent = await post("/sign-in", { identifier: "otp@acme.test", strategy: "code", redirect_url: app });
    expect(sent.status).toBe(200);
    const vid = verificationOf(await sent.text());
    const inbox = (await admin(run, "GET", "/inbox?channel=email&to=otp@acme.test")).json.data;
    expect(inbox).toHaveLength(1);
    expect(inbox[0].code).toMatch(/^\d{6}$/);
    const bad = await post("/sign-in/attempt_verification", { verification_id: vid, code: inbox[0].code === "000000" ? "111111" : "000000", redirect_url: app });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('data-code="form_code_incorrect"');
    const jwt = await handedToken(await post("/sign-in/attempt_verification", { verification_id: vid, code: inbox[0].code, redirect_url: app }));
    expect((await verifyToken(jwt, { jwtKey: run.clones.auth.jwtKey })).sub).toBe(u.id);

    // Test phone numbers (+1 XXX 555 0100..0199) take 424242 and nothing is texted.
    const phone = await post("/sign-in", { identifier: "+1 (555) 555-0199", strategy: "code", redirect_url: app });
    await handedToken(await post("/sign-in/attempt_verification", { verification_id: verificationOf(await phone.text()), code: "424242", redirect_url: app }));
    expect((await admin(run, "GET", "/inbox?channel=sms")).json.data).toHaveLength(0);

    const t = await clerk.users.createUser({ emailAddress: ["jane+clerk_test@acme.test"] });
    const testMail = await post("/sign-in", { identifier: "jane+clerk_test@acme.test", strategy: "code", redirect_url: app });
    const tjwt = await handedToken(await post("/sign-in/attempt_verification", { verification_id: verificationOf(await testMail.text()), code: "424242", redirect_url: app }));
    expect((await verifyToken(tjwt, { jwtKey: run.clones.auth.jwtKey })).sub).toBe(t.id);
  });

  it("expires codes on the run clock, locks them after three misses, and honours the otp_rejected preset", async () => {
    await clerk.users.createUser({ emailAddress: ["slow+clerk_test@acme.test"] });
    const a = verificationOf(await (await post("/sign-in", { identifier: "slow+clerk_test@acme.test", strategy: "code" })).text());
    await advance(run, "11m");
    expect(await (await post("/sign-in/attempt_verification", { verification_id: a, code: "424242" })).text()).toContain('data-code="verification_expired"');

    const b = verificationOf(await (await post("/sign-in", { identifier: "slow+clerk_test@acme.test", strategy: "code" })).text());
    for (let i = 0; i < 3; i++) await post("/sign-in/attempt_verification", { verification_id: b, code: "999999" });
    expect(await (await post("/sign-in/attempt_verification", { verification_id: b, code: "424242" })).text()).toContain('data-code="verification_failed"');

    expect((await admin(run, "POST", "/chaos/presets/auth/otp_rejected", { times: 1 })).status).toBeLessThan(300);
    const c = verificationOf(await (await post("/sign-in", { identifier: "slow+clerk_test@acme.test", strategy: "code", redirect_url: app })).text());
    expect(await (await post("/sign-in/attempt_verification", { verification_id: c, code: "424242", redirect_url: app })).text()).toContain('data-code="form_code_incorrect"');
    await handedToken(await post("/sign-in/attempt_verification", { verification_id: c, code: "424242", redirect_url: app }));
  });

  it("resets a password with an emailed code, then signs the user in", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["reset@acme.test"], password: "old-password-1" });
    const sent = await post("/reset-password", { identifier: "reset@acme.test", redirect_url: app });
    const vid = verificationOf(await sent.text());
    const mail = (await admin(run, "GET", "/inbox?to=reset@acme.test")).json.data.at(-1);
    expect(mail.subject).toContain("password reset code");
    const weak = await post("/reset-password/attempt_verification", { verification_id: vid, code: mail.code, password: "short", redirect_url: app });
    expect(await weak.text()).toContain('data-code="form_password_length_too_short"');
    await handedToken(await post("/reset-password/attempt_verification", { verification_id: vid, code: mail.code, password: "new-password-2", redirect_url: app }));
    expect(await clerk.users.verifyPassword({ userId: u.id, password: "new-password-2" })).toEqual({ verified: true });
  });

  it("redeems tickets: sign-in tokens sign in at once, invitations sign up or join the organization", async () => {
    const u = await clerk.users.createUser({ emailAddress: ["tickets@acme.test"] });
    const t = await clerk.signInTokens.createSignInToken({ userId: u.id, expiresInSeconds: 600 });
    expect(t.url.startsWith(`${page}/tickets/accept?ticket=`)).toBe(true);
    const signedIn = await fetch(`${t.url}&redirect_url=${encodeURIComponent(app)}`, { redirect: "manual" });
    expect((await verifyToken(await handedToken(signedIn), { jwtKey: run.clones.auth.jwtKey })).sub).toBe(u.id);
    const again = await fetch(t.url, { redirect: "manual" });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain('data-code="ticket_invalid"');

    const inv = await clerk.invitations.createInvitation({ emailAddress: "joiner@acme.test", publicMetadata: { plan: "trial" } });
    const form = await fetch(inv.url!);
    expect(await form.text()).toContain("Sign up as joiner@acme.test");
    const joined = await handedToken(await post("/tickets/accept", { ticket: inv.id, password: "joiner-password-1", first_name: "Jo", redirect_url: app }));
    const joiner = (await clerk.users.getUserList({ emailAddress: ["joiner@acme.test"] })).data[0];
    expect(joiner).toMatchObject({ firstName: "Jo", publicMetadata: { plan: "trial" }, passwordEnabled: true });
    expect((await verifyToken(joined, { jwtKey: run.clones.auth.jwtKey })).sub).toBe(joiner.id);
    expect((await clerk.invitations.getInvitationList({ status: "accepted" })).data.map((i) => i.id)).toContain(inv.id);

    const org = await clerk.organizations.createOrganization({ name: "Ticket Org" });
    const orgInv = await clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: "tickets@acme.test", role: "org:member" });
    const orgJwt = await handedToken(await fetch(`${orgInv.url}&redirect_url=${encodeURIComponent(app)}`, { redirect: "manual" }));
    expect(await verifyToken(orgJwt, { jwtKey: run.clones.auth.jwtKey })).toMatchObject({ sub: u.id, o: { id: org.id, rol: "member" } });
    expect((await clerk.organizations.getOrganizationInvitation({ organizationId: org.id, invitationId: orgInv.id })).status).toBe("accepted");
  });

  it("refuses page paths naming another world, and API calls without the secret key", async () => {
    expect((await fetch(`${run.clones.auth.url}/molar/${"0".repeat(32)}/sign-in`)).status).toBe(401);
    expect((await fetch(`${run.clones.auth.url}/v1/users`)).status).toBe(401);
  });
});

describe("auth clone webhooks, verified by verifyWebhook", () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hooks = await receiver();
  });
  afterAll(() => hooks.close());

  it("delivers user and session events signed so verifyWebhook accepts them", async () => {
    const run = await spawn({ kinds: ["auth"] });
    const ep = await admin(run, "POST", "/webhooks/endpoints", { kind: "auth", url: hooks.url });
    expect(ep.status).toBe(201);
    const clerk = clerkOf(run);
    const u = await clerk.users.createUser({ emailAddress: ["hook@acme.test"] });
    await clerk.users.updateUser(u.id, { firstName: "Hook" });
    const s = await clerk.sessions.createSession({ userId: u.id });
    await clerk.sessions.revokeSession(s.id);
    await clerk.users.deleteUser(u.id);
    const worldId = Buffer.from(run.clones.auth.publishableKey.slice("pk_test_".length), "base64").toString().split(".")[1];
    const coded = await clerk.users.createUser({ emailAddress: ["coded@acme.test"] });
    await fetch(`${run.clones.auth.url}/molar/${worldId}/sign-in`, { method: "POST", body: new URLSearchParams({ identifier: "coded@acme.test", strategy: "code" }) });
    await advance(run, "1s");

    const events: Awaited<ReturnType<typeof verifyWebhook>>[] = [];
    for (const g of hooks.got) {
      const req = new Request(hooks.url, { method: "POST", headers: g.headers as Record<string, string>, body: g.body });
      events.push(await verifyWebhook(req, { signingSecret: ep.json.secret }));
    }
    const mine = events.filter((e) => (e.data as { id?: string; user_id?: string }).id === u.id || (e.data as { user_id?: string }).user_id === u.id);
    expect(mine.map((e) => e.type)).toEqual(["user.created", "user.updated", "session.created", "session.revoked", "user.deleted"]);
    expect(mine[0]).toMatchObject({ object: "event", instance_id: expect.stringMatching(/^ins_/), data: { object: "user", id: u.id } });
    expect(mine[1].data).toMatchObject({ first_name: "Hook" });
    expect(mine[4].data).toEqual({ object: "user", id: u.id, deleted: true });

    const mail = events.find((e) => e.type === "email.created");
    expect(mail?.data).toMatchObject({ object: "email", to_email_address: "coded@acme.test", user_id: coded.id, slug: "verification_code", delivered_by_clerk: true });

    const tampered = new Request(hooks.url, { method: "POST", headers: hooks.got[0].headers as Record<string, string>, body: hooks.got[0].body.replace("user", "usr") });
    await expect(verifyWebhook(tampered, { signingSecret: ep.json.secret })).rejects.toThrow();
  });
});
