// The sign-in page for browser tests, served by the clone at `{url}/molar/<worldId>/sign-in`:
// password or emailed/texted code, and password reset. It needs no secret key (like Clerk's
// Frontend API, it is public; the world id is the one inside the publishable key). On success it
// redirects to `redirect_url` with the session token as `__session` (query parameter and cookie).
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { deferred, type Kernel, type VendorBindings } from "../../kernel/types.ts";
import { ClerkError } from "./errors.ts";
import { sign } from "./jwt.ts";
import { createSession, endSession, sessionClaims } from "./sessions.ts";
import { attemptCode, passwordSignIn, resetPassword, sendCode } from "./signin.ts";
import { validatePassword } from "./passwords.ts";
import { acceptInvitation, openTicket } from "./invites.ts";

type C = Context<{ Bindings: VendorBindings }>;
const decoder = new TextDecoder();

const esc = (s: string) => s.replace(/[&<>"']/g, (m) => `&#${m.charCodeAt(0)};`);

function html(title: string, body: string, status = 200, headers: Record<string, string> = {}): Response {
  const doc = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:16px system-ui;max-width:24rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}p.error{color:#b00}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
  return new Response(doc, { status, headers: { "content-type": "text/html; charset=utf-8", ...headers } });
}

const hidden = (name: string, value: string | null) => (value ? `<input type="hidden" name="${name}" value="${esc(value)}">` : "");
const errorLine = (e: ClerkError | null) => (e ? `<p class="error" data-code="${esc(e.code)}">${esc(e.message)}</p>` : "");

/** Only http(s) targets: the page must not become an open redirector to other schemes. */
function redirectTarget(v: string | null): string | null {
  if (!v) return null;
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:" ? u.toString() : null;
  } catch {
    return null;
  }
}

function form(c: C): URLSearchParams {
  return new URLSearchParams(decoder.decode(c.env.body));
}

const base = (c: C) => `/molar/${c.req.param("world")}`;

function signInForm(c: C, redirect: string | null, error: ClerkError | null = null, identifier = ""): Response {
  return html(
    "Sign in",
    `${errorLine(error)}<form method="post" action="${base(c)}/sign-in">
<label>Email, phone or username <input name="identifier" value="${esc(identifier)}" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
${hidden("redirect_url", redirect)}
<button name="strategy" value="password">Continue with password</button>
<button name="strategy" value="code">Send me a code</button>
</form><p><a href="${base(c)}/reset-password${redirect ? `?redirect_url=${encodeURIComponent(redirect)}` : ""}">Forgot password?</a></p>`,
    error ? error.status : 200,
  );
}

function codeForm(c: C, action: string, verificationId: string, to: string, redirect: string | null, error: ClerkError | null, withPassword = false): Response {
  return html(
    withPassword ? "Reset password" : "Check your inbox",
    `${errorLine(error)}<p>We sent a code to ${esc(to)}.</p><form method="post" action="${base(c)}/${action}/attempt_verification">
<label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
${withPassword ? '<label>New password <input name="password" type="password" autocomplete="new-password" required></label>' : ""}
${hidden("verification_id", verificationId)}${hidden("to", to)}${hidden("redirect_url", redirect)}
<button>Continue</button></form>`,
    error ? error.status : 200,
  );
}

/**
 * The cookies a Clerk development instance leaves on the app's domain after sign-in, which
 * `authenticateRequest` reads: the session token, the client's "updated at" (not after the
 * token's `iat`) and a dev-browser token (only its presence is checked on this path).
 */
export function sessionCookies(jwt: string, iat: number): Record<string, string> {
  return { __session: jwt, __client_uat: String(iat), __clerk_db_jwt: `dvb_${jwt.slice(-27).replace(/[^A-Za-z0-9]/g, "x")}` };
}

/** Signs the user in: a new session, then (after the commit) its token handed to the app. */
function signedIn(k: Kernel, userId: string, redirect: string | null, organizationId: string | null = null): Response {
  const s = createSession(k, userId, { azp: redirect ? new URL(redirect).origin : null, organizationId });
  const claims = sessionClaims(k, s.id);
  return deferred(async () => {
    const jwt = await sign(k, claims);
    const headers = new Headers();
    for (const [name, value] of Object.entries(sessionCookies(jwt, claims.iat as number))) headers.append("set-cookie", `${name}=${value}; Path=/; SameSite=Lax`);
    if (!redirect) {
      const page = html("Signed in", `<p>Session <code id="session-id">${esc(s.id)}</code></p><p>Token <code id="session-token">${esc(jwt)}</code></p>`);
      for (const c of headers.getSetCookie()) page.headers.append("set-cookie", c);
      return page;
    }
    const to = new URL(redirect);
    to.searchParams.set("__session", jwt);
    to.searchParams.set("__clerk_session_id", s.id);
    headers.set("location", to.toString());
    return new Response(null, { status: 303, headers });
  });
}

/**
 * Runs a step; a Clerk error re-renders the page instead of answering JSON. It is rethrown as an
 * HTTPException carrying the page, so the request's transaction still rolls back what the step
 * wrote (a spent ticket, a half-made user).
 */
function step(render: (e: ClerkError) => Response, fn: () => Response): Response {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ClerkError) throw new HTTPException(e.status as 400, { res: render(e) });
    throw e;
  }
}

export function signInPage(app: Hono<{ Bindings: VendorBindings }>, k: Kernel): void {
  app.get("/molar/:world/sign-in", (c) => signInForm(c, redirectTarget(c.req.query("redirect_url") ?? null)));

  app.post("/molar/:world/sign-in", (c) => {
    const f = form(c);
    const identifier = f.get("identifier") ?? "";
    const redirect = redirectTarget(f.get("redirect_url"));
    return step(
      (e) => signInForm(c, redirect, e, identifier),
      () => {
        if (f.get("strategy") === "code" || !f.get("password")) {
          const sent = sendCode(k, identifier, "sign_in");
          return codeForm(c, "sign-in", sent.verificationId, sent.to, redirect, null);
        }
        return signedIn(k, passwordSignIn(k, identifier, f.get("password") ?? ""), redirect);
      },
    );
  });

  app.post("/molar/:world/sign-in/attempt_verification", (c) => {
    const f = form(c);
    const redirect = redirectTarget(f.get("redirect_url"));
    const id = f.get("verification_id") ?? "";
    const r = attemptCode(k, id, f.get("code") ?? "", "sign_in");
    if ("error" in r) return codeForm(c, "sign-in", id, f.get("to") ?? "", redirect, r.error);
    return step((e) => signInForm(c, redirect, e), () => signedIn(k, r.userId, redirect));
  });

  // Tickets: sign-in tokens sign their user in at once; invitations ask for a password first
  // (an organization invitation to an existing user joins it directly).
  const signUpForm = (c: C, ticket: string, email: string, redirect: string | null, error: ClerkError | null = null) =>
    html(
      "Accept invitation",
      `${errorLine(error)}<form method="post" action="${base(c)}/tickets/accept"><p>Sign up as ${esc(email)}</p>
<label>First name <input name="first_name"></label><label>Last name <input name="last_name"></label>
<label>Password <input name="password" type="password" autocomplete="new-password"></label>
${hidden("ticket", ticket)}${hidden("redirect_url", redirect)}<button>Continue</button></form>`,
      error ? error.status : 200,
    );
  const ticketFailed = (e: ClerkError) => html("Invalid link", errorLine(e), e.status);

  app.get("/molar/:world/tickets/accept", (c) => {
    const ticket = c.req.query("ticket") ?? "";
    const redirect = redirectTarget(c.req.query("redirect_url") ?? null);
    return step(ticketFailed, () => {
      const t = openTicket(k, ticket);
      if (t.kind === "sign_in_token") return signedIn(k, t.userId, redirect);
      if (t.kind === "organization_invitation" && t.existingUserId) {
        const r = acceptInvitation(k, ticket, {});
        return signedIn(k, r.userId, redirect, r.organizationId);
      }
      return signUpForm(c, ticket, t.email, redirect);
    });
  });

  app.post("/molar/:world/tickets/accept", (c) => {
    const f = form(c);
    const ticket = f.get("ticket") ?? "";
    const redirect = redirectTarget(f.get("redirect_url"));
    return step(
      (e) => (e.code.startsWith("ticket_") ? ticketFailed(e) : signUpForm(c, ticket, "", redirect, e)),
      () => {
        const password = f.get("password");
        if (password) validatePassword(password, false);
        const r = acceptInvitation(k, ticket, { password: password ?? undefined, first_name: f.get("first_name") ?? undefined, last_name: f.get("last_name") ?? undefined });
        return signedIn(k, r.userId, redirect, r.organizationId);
      },
    );
  });

  // Sign-out: the session ends (`session.ended`) and the app's cookies are cleared.
  app.post("/molar/:world/sign-out", (c) => {
    const f = form(c);
    const redirect = redirectTarget(f.get("redirect_url"));
    return step(ticketFailed, () => {
      endSession(k, f.get("session_id") ?? "", "ended");
      const res = redirect ? new Response(null, { status: 303, headers: { location: redirect } }) : html("Signed out", "<p>Signed out.</p>");
      for (const name of ["__session", "__client_uat"]) res.headers.append("set-cookie", `${name}=; Path=/; Max-Age=0; SameSite=Lax`);
      return res;
    });
  });

  app.get("/molar/:world/reset-password", (c) => {
    const redirect = redirectTarget(c.req.query("redirect_url") ?? null);
    return html(
      "Reset password",
      `<form method="post" action="${base(c)}/reset-password"><label>Email or phone <input name="identifier" required></label>${hidden("redirect_url", redirect)}<button>Send me a code</button></form>`,
    );
  });

  app.post("/molar/:world/reset-password", (c) => {
    const f = form(c);
    const redirect = redirectTarget(f.get("redirect_url"));
    return step(
      (e) => signInForm(c, redirect, e, f.get("identifier") ?? ""),
      () => {
        const sent = sendCode(k, f.get("identifier") ?? "", "reset_password");
        return codeForm(c, "reset-password", sent.verificationId, sent.to, redirect, null, true);
      },
    );
  });

  app.post("/molar/:world/reset-password/attempt_verification", (c) => {
    const f = form(c);
    const redirect = redirectTarget(f.get("redirect_url"));
    const id = f.get("verification_id") ?? "";
    const again = (e: ClerkError) => codeForm(c, "reset-password", id, f.get("to") ?? "", redirect, e, true);
    // The new password is checked before the code, so a weak one does not count as an attempt.
    return step(again, () => {
      const password = validatePassword(f.get("password") ?? "", false);
      const r = attemptCode(k, id, f.get("code") ?? "", "reset_password");
      if ("error" in r) return again(r.error);
      resetPassword(k, r.userId, password);
      return signedIn(k, r.userId, redirect);
    });
  });
}
