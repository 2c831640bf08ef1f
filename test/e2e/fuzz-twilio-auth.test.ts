// Hostile input, property-based, against the Twilio and Clerk clones: malformed forms and JSON,
// wrong content types, absurd paging, unknown paths. Never a 5xx (but the vendor's own 501), every
// error in the vendor's own shape, and a rejected request leaves the world byte for byte as it
// was (compared by the sha256 of a snapshot taken after each request, with the run clock frozen).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import twilio from "twilio";
import { createClerkClient } from "@clerk/backend";
import { twilioCloneHttpClient } from "../../src/sdk/twilio.ts";
import { admin, spawn, type Run } from "./helpers.ts";

const RUNS = Number(process.env.MOLAR_FUZZ_RUNS ?? 150);
/** Each case also snapshots the world: allow for that on a busy machine. */
const TIMEOUT = Math.max(60_000, RUNS * 400);

const notBroken = (status: number) => status < 500 || status === 501;
/** Methods, weighted toward the ones the routes take so most cases reach a handler. */
const methodOf = (weights: Record<string, number>) => fc.oneof(...Object.entries(weights).map(([m, weight]) => ({ arbitrary: fc.constant(m), weight })));
const contentType = fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/octet-stream", "");
/** Values that break parsers and arithmetic: huge, negative, fractional, non-numeric, empty, control bytes. */
const nasty = fc.oneof(
  fc.constantFrom("", "-1", "0", "1.5", "1e308", "9".repeat(400), "NaN", "Infinity", "0x10", "null", "true", "[]", "{}", "%", "%00", "\u0000", "+", "+1", "+15005550001", "+15005550006", "+15551234567", "http://127.0.0.1:1/x", "javascript:alert(1)", "a".repeat(2000), "PA", "PA-5", `PA${"9".repeat(400)}`, "2026-13-45", "fixed", "sms", "canceled"),
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
);

/** A wire body: a form of plausible and junk keys, JSON, or bytes. */
function bodyOf(keys: string[]) {
  const form = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), nasty), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString());
  return fc.oneof(
    form,
    fc.json({ maxDepth: 4 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
    fc.constantFrom("{", "[".repeat(2000), "=&=&&=", "a=%ZZ", "%E0%A4%A"),
  );
}

/** A query string of paging and filter parameters, often absurd. */
function queryOf(keys: string[]) {
  return fc.array(fc.tuple(fc.constantFrom(...keys), nasty), { maxLength: 4 }).map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs)}` : ""));
}

async function send(url: string, m: string, headers: Record<string, string>, body: string, ct: string) {
  const h = { ...headers };
  if (ct) h["content-type"] = ct;
  const res = await fetch(url, { method: m, headers: h, body: m === "GET" ? undefined : body });
  return { status: res.status, text: await res.text() };
}

/**
 * The world's fingerprint: the sha256 of a fresh snapshot (the snapshot itself is deleted again).
 * Snapshots hash table rows only, so equal worlds give equal hashes.
 */
async function fingerprint(run: Run): Promise<string> {
  const s = await admin(run, "POST", "/snapshots", { label: "fuzz" });
  expect(s.status).toBe(201);
  await admin(run, "DELETE", `/snapshots/${s.json.id}`);
  return s.json.sha256 as string;
}

describe("fuzzing the Twilio clone (fast-check)", () => {
  it("answers junk with Twilio's { code, message, more_info, status }, never a 5xx, and a refused request changes nothing", async () => {
    const run: Run = await spawn({ kinds: ["twilio"] });
    const { accountSid: ac, authToken } = run.clones.twilio;
    const client = twilio(ac, authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });
    // A world with something of everything in it, so paths with real sids reach real rows.
    const pn = await client.incomingPhoneNumbers.create({ phoneNumber: "+15017122661", smsUrl: "http://127.0.0.1:1/sms" });
    const m = await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "kept", mediaUrl: ["https://demo.twilio.com/owl.png"] });
    const va = await client.verify.v2.services.create({ friendlyName: "Fuzz" });
    const v = await client.verify.v2.services(va.sid).verifications.create({ to: "+15551234567", channel: "sms" });
    const mg = await client.messaging.v1.services.create({ friendlyName: "Fuzz" });
    await admin(run, "POST", "/clock/freeze");
    expect(await fingerprint(run)).toBe(await fingerprint(run));

    const A = `/2010-04-01/Accounts/${ac}`;
    const paths = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(
        `${A}/Messages.json`, `${A}/Messages/${m.sid}.json`, `${A}/Messages/${m.sid}/Media.json`, `${A}/Messages/SM${"0".repeat(32)}.json`, `${A}/Messages/%00.json`,
        `${A}/IncomingPhoneNumbers.json`, `${A}/IncomingPhoneNumbers/${pn.sid}.json`, `${A}/IncomingPhoneNumbers/Local.json`, `${A}/IncomingPhoneNumbers/TollFree.json`,
        `/2010-04-01/Accounts/AC${"1".repeat(32)}/Messages.json`, `${A}/Calls.json`, `${A}.json`,
        "/verify/v2/Services", `/verify/v2/Services/${va.sid}`, `/verify/v2/Services/${va.sid}/Verifications`, `/verify/v2/Services/${va.sid}/Verifications/${v.sid}`,
        `/verify/v2/Services/${va.sid}/Verifications/+15551234567`, `/verify/v2/Services/${va.sid}/VerificationCheck`, `/verify/v2/Services/VA${"0".repeat(32)}/VerificationCheck`,
        "/messaging/v1/Services", `/messaging/v1/Services/${mg.sid}`, `/messaging/v1/Services/${mg.sid}/PhoneNumbers`, `/messaging/v1/Services/${mg.sid}/PhoneNumbers/${pn.sid}`,
        "/lookups/v2/PhoneNumbers/+14155552671", "/lookups/v2/PhoneNumbers/%2B", "/lookups/v2/PhoneNumbers/..%2F..", "/", "/nope",
      ) },
      { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[A-Za-z0-9._%+-]{0,14}$/), { minLength: 1, maxLength: 5 }).map((s) => `${A}/${s.join("/")}`) },
    );
    const keys = ["To", "From", "Body", "MediaUrl", "StatusCallback", "ValidityPeriod", "SendAt", "ScheduleType", "MessagingServiceSid", "Status", "FriendlyName", "CodeLength",
      "Channel", "Code", "VerificationSid", "CustomCode", "PhoneNumber", "AreaCode", "SmsUrl", "SmsMethod", "PhoneNumberSid", "StickySender", "InboundRequestUrl", "LookupEnabled"];
    const queries = queryOf(["PageSize", "Page", "PageToken", "To", "From", "DateSent", "DateSent<", "DateSent>", "PhoneNumber", "CountryCode", "Fields"]);
    const auth = { authorization: `Basic ${Buffer.from(`${ac}:${authToken}`).toString("base64")}` };

    let before = await fingerprint(run);
    const seen = new Map<number, number>();
    const deleted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(methodOf({ GET: 3, POST: 5, DELETE: 1, PUT: 1 }), paths, queries, bodyOf(keys), contentType, async (mth, p, q, body, ct) => {
        const r = await send(`${run.clones.twilio.url}${p}${q}`, mth, auth, body, ct);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (mth === "DELETE" && r.status < 300) deleted.add(p);
        const what = `${mth} ${p}${q} [${ct}] ${body.slice(0, 80)} → ${r.status} ${r.text.slice(0, 160)}`;
        expect(notBroken(r.status), what).toBe(true);
        if (r.status >= 400) {
          const e = JSON.parse(r.text) as Record<string, unknown>;
          expect(e, what).toEqual({ code: expect.any(Number), message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: r.status });
        }
        const after = await fingerprint(run);
        if (r.status >= 400) expect(after, `a refused request changed the world: ${what}`).toBe(before);
        before = after;
      }),
      { numRuns: RUNS },
    );
    // The cases reached both sides: some served, some refused.
    expect([...seen.keys()].some((s) => s < 300)).toBe(true);
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
    // What was there is still there, unless a served request deleted it.
    if (!deleted.has(`${A}/Messages/${m.sid}.json`)) expect((await client.messages(m.sid).fetch()).sid).toBe(m.sid);
    console.log(`fuzz: twilio statuses ${JSON.stringify(Object.fromEntries(seen))}`);
  }, TIMEOUT);
});

describe("fuzzing the Clerk clone (fast-check)", () => {
  it("answers junk with Clerk's { errors: [{ code, message, long_message, meta }], clerk_trace_id }, never a 5xx, and a refused request changes nothing", async () => {
    const run: Run = await spawn({ kinds: ["auth"] });
    const { url, secretKey } = run.clones.auth;
    const clerk = createClerkClient({ secretKey, apiUrl: url });
    const user = await clerk.users.createUser({ emailAddress: ["fuzz@acme.test"], password: "correct-horse-battery-9" });
    const org = await clerk.organizations.createOrganization({ name: "Fuzz", createdBy: user.id });
    const session = await clerk.sessions.createSession({ userId: user.id });
    await admin(run, "POST", "/clock/freeze");
    expect(await fingerprint(run)).toBe(await fingerprint(run));

    const paths = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(
        "/v1/users", `/v1/users/${user.id}`, `/v1/users/${user.id}/metadata`, `/v1/users/${user.id}/ban`, `/v1/users/${user.id}/verify_password`, `/v1/users/${user.id}/organization_memberships`,
        "/v1/users/user_missing", "/v1/users/count", "/v1/sessions", `/v1/sessions/${session.id}`, `/v1/sessions/${session.id}/tokens`, `/v1/sessions/${session.id}/revoke`,
        "/v1/organizations", `/v1/organizations/${org.id}`, `/v1/organizations/${org.id}/memberships`, `/v1/organizations/${org.id}/metadata`, `/v1/organizations/${org.id}/invitations`,
        "/v1/invitations", "/v1/jwt_templates", "/v1/jwt_templates/jtmp_missing", "/v1/sign_in_tokens", "/v1/email_addresses", "/v1/phone_numbers", "/v1/organization_memberships",
        "/v1/testing_tokens", "/v1/jwks", "/v1/nope", "/v1/",
      ) },
      { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[A-Za-z0-9._%+-]{0,14}$/), { minLength: 1, maxLength: 4 }).map((s) => `/v1/${s.join("/")}`) },
    );
    const keys = ["email_address", "phone_number", "password", "username", "first_name", "public_metadata", "private_metadata", "user_id", "name", "created_by", "role", "expires_in_seconds", "limit", "offset"];
    const queries = queryOf(["limit", "offset", "order_by", "query", "email_address", "user_id", "organization_id", "status"]);
    const json = fc.oneof(
      fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })), fc.oneof(nasty, fc.jsonValue({ maxDepth: 3 })), { maxKeys: 5 }).map((o) => JSON.stringify(o)),
      bodyOf(keys),
    );
    const auth = { authorization: `Bearer ${secretKey}` };
    // Found by this fuzzer: a search longer than workerd's 50-byte LIKE limit was a 500.
    for (const p of ["/v1/users", "/v1/organizations", "/v1/invitations"]) {
      const r = await fetch(`${url}${p}?query=${"9".repeat(60)}`, { headers: auth });
      expect(r.status, p).toBe(200);
    }
    expect((await clerk.users.getUserList({ query: "fuzz@acme" })).data.map((u) => u.id)).toEqual([user.id]);

    let before = await fingerprint(run);
    const seen = new Map<number, number>();
    const deleted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(methodOf({ GET: 3, POST: 4, PATCH: 2, DELETE: 1, PUT: 1 }), paths, queries, json, contentType, async (mth, p, q, body, ct) => {
        const r = await send(`${url}${p}${q}`, mth, auth, body, ct);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (mth === "DELETE" && r.status < 300) deleted.add(p);
        const what = `${mth} ${p}${q} [${ct}] ${body.slice(0, 80)} → ${r.status} ${r.text.slice(0, 160)}`;
        expect(notBroken(r.status), what).toBe(true);
        if (r.status >= 400) {
          const e = JSON.parse(r.text) as { errors: unknown[]; clerk_trace_id: unknown };
          expect(e, what).toEqual({ errors: [expect.objectContaining({ code: expect.any(String), message: expect.any(String), long_message: expect.any(String) })], clerk_trace_id: expect.any(String) });
        }
        const after = await fingerprint(run);
        if (r.status >= 400) expect(after, `a refused request changed the world: ${what}`).toBe(before);
        before = after;
      }),
      { numRuns: RUNS },
    );
    expect([...seen.keys()].some((s) => s < 300)).toBe(true);
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
    // What was there is still there, unless a served request deleted it.
    if (!deleted.has(`/v1/users/${user.id}`)) expect((await clerk.users.getUser(user.id)).id).toBe(user.id);
    console.log(`fuzz: clerk statuses ${JSON.stringify(Object.fromEntries(seen))}`);
  }, TIMEOUT);
});
