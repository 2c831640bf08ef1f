// Hostile input, property-based: random methods, paths, bodies and content types against the
// control API, the admin API and the email clone. Never a 5xx, always the owner's error shape,
// and a rejected write leaves the world as it was.
import { describe, expect, it, inject } from "vitest";
import fc from "fast-check";
import { Resend } from "resend";
import { spawn, urls, type Run } from "./helpers.ts";

const RUNS = Number(process.env.MOLAR_FUZZ_RUNS ?? 150);

/** Never a 5xx, but for 501: the vendor's own answer for an operation not built yet. */
const notBroken = (status: number) => status < 500 || status === 501;

const junkBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 6 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.constantFrom("{", "[", "null", '{"from":', '{"to":[[[[]]]]}', "\u0000\u0001", "{}".repeat(1000), "[".repeat(3000)),
);
const method = fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT");
const segment = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/), fc.constantFrom("..", "%2e%2e", "%00", "emails", "batch", "cancel", "snapshots", "diff", "restore", "import", "clock", "advance", "contacts", "segments", "a@b.co", "publish", "duplicate", "send"));
const emailRoot = fc.constantFrom("emails", "contacts", "segments", "audiences", "templates", "broadcasts");
const contentType = fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "");

async function send(url: string, m: string, token: string, body: string, ct: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (ct) headers["content-type"] = ct;
  const res = await fetch(url, { method: m, headers, body: m === "GET" ? undefined : body });
  const text = await res.text();
  return { status: res.status, text };
}

describe("fuzzing (fast-check)", () => {
  it("the email clone answers junk with Resend's 4xx and keeps its world", async () => {
    const run: Run = await spawn({ kinds: ["email"] });
    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const kept = await resend.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "kept", text: "x" });
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(method, emailRoot, fc.array(segment, { maxLength: 4 }), junkBody, contentType, async (m, root, segs, body, ct) => {
        tried++;
        const path = `/${root}${segs.length ? "/" + segs.join("/") : ""}`;
        const r = await send(`${run.clones.email.url}${path}`, m, run.clones.email.apiKey, body, ct);
        expect(notBroken(r.status), `${m} ${path} ${body.slice(0, 80)}: ${r.status}`).toBe(true);
        if (r.status >= 400) expect(JSON.parse(r.text)).toMatchObject({ statusCode: r.status, name: expect.any(String), message: expect.any(String) });
      }),
      { numRuns: RUNS },
    );
    const list = (await resend.emails.list({ limit: 100 })).data!.data;
    // Only well-formed sends can have added mail; the first one is untouched.
    expect(list.find((e) => e.id === kept.data!.id)).toMatchObject({ subject: "kept" });
    console.log(`fuzz: ${tried} email requests`);
  });

  it("the admin API answers junk with its own 4xx shape", async () => {
    const run: Run = await spawn({ kinds: ["email"] });
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(method, fc.array(segment, { minLength: 1, maxLength: 4 }), junkBody, contentType, async (m, segs, body, ct) => {
        tried++;
        const path = `/${segs.join("/")}`;
        const r = await send(`${run.adminUrl}${path}`, m, run.token, body, ct);
        expect(r.status, `${m} ${path} ${body.slice(0, 80)}: ${r.text.slice(0, 100)}`).toBeLessThan(500);
        if (r.status >= 400 && !r.text.startsWith("data:")) expect(JSON.parse(r.text).error).toMatchObject({ type: expect.any(String), code: expect.any(String) });
      }),
      { numRuns: RUNS },
    );
    console.log(`fuzz: ${tried} admin requests`);
  });

  it("the control API answers junk with its own 4xx shape", async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/v1/runs", "/v1/fleet", "/v1/fleet/worlds", "/v1/refusals"), method, fc.array(segment, { maxLength: 3 }), junkBody, contentType, fc.boolean(), async (root, m, segs, body, ct, goodKey) => {
        tried++;
        const path = `${root}${segs.length ? "/" + segs.join("/") : ""}`;
        const r = await send(`${urls().control}${path}`, m, goodKey ? inject("orgKey") : "junk-key-junk-key", body, ct);
        expect(r.status, `${m} ${path} ${body.slice(0, 80)}: ${r.text.slice(0, 100)}`).toBeLessThan(500);
        if (r.status >= 400) expect(JSON.parse(r.text).error).toMatchObject({ type: expect.any(String), code: expect.any(String), message: expect.any(String) });
        if (r.status === 201 && root === "/v1/runs") await fetch(`${urls().control}/v1/runs/${JSON.parse(r.text).runId}`, { method: "DELETE", headers: { authorization: `Bearer ${inject("orgKey")}` } });
      }),
      { numRuns: RUNS },
    );
    console.log(`fuzz: ${tried} control requests`);
  });
});

describe("isolation, property-based", () => {
  it("random interleavings of several runs in two orgs never show one world's data to another", async () => {
    const worlds = await Promise.all([
      spawn({ kinds: ["email"] }),
      spawn({ kinds: ["email"] }),
      spawn({ kinds: ["email"] }, inject("otherKey")),
      spawn({ kinds: ["email"] }, inject("otherKey")),
    ]);
    const mine = worlds.map(() => new Set<string>());
    const op = fc.record({ w: fc.integer({ min: 0, max: worlds.length - 1 }), what: fc.constantFrom("send", "list", "inbox", "get-other", "admin-other") , other: fc.integer({ min: 0, max: worlds.length - 1 }) });
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), async (ops) => {
        for (const { w, what, other } of ops) {
          tried++;
          const run = worlds[w];
          const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
          if (what === "send") {
            const r = await resend.emails.send({ from: "a@acme.test", to: `w${w}@acme.test`, subject: `world ${w}`, text: "x" });
            mine[w].add(r.data!.id);
          } else if (what === "list") {
            const ids = (await resend.emails.list({ limit: 100 })).data!.data.map((e) => e.id);
            for (const id of ids) expect(mine[w].has(id), `world ${w} saw ${id}`).toBe(true);
          } else if (what === "inbox") {
            const inbox = (await (await fetch(`${run.adminUrl}/inbox`, { headers: { authorization: `Bearer ${run.token}` } })).json()) as { data: { to: string }[] };
            for (const m of inbox.data) expect(m.to).toBe(`w${w}@acme.test`);
          } else if (what === "get-other" && other !== w && mine[other].size) {
            const id = [...mine[other]][0];
            expect((await resend.emails.get(id)).error).toMatchObject({ statusCode: 404 });
          } else if (what === "admin-other" && other !== w) {
            const r = await fetch(`${worlds[other].adminUrl}/inbox`, { headers: { authorization: `Bearer ${run.token}` } });
            expect(r.status).toBe(401);
          }
        }
      }),
      { numRuns: Math.max(5, Math.round(RUNS / 15)) },
    );
    console.log(`isolation: ${tried} operations across ${worlds.length} runs in 2 orgs`);
  });
});
