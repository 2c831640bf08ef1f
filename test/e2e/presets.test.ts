// Org presets (issue 7's preset library): a run's world and chaos rules saved as a seed of the
// org, spawned from with `seed: "org:<name>"`, exported as one JSON document and imported back.
import { describe, expect, it, inject } from "vitest";
import { Resend } from "resend";
import { admin, api, spawn, uniqueId, type Run } from "./helpers.ts";

const resendOf = (run: Run) => new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });

describe("org presets", () => {
  it("saves a run as a seed with its chaos rules, exports, imports and spawns from it", async () => {
    const src = await spawn({ kinds: ["email"] });
    await resendOf(src).emails.send({ from: "a@acme.test", to: "kept@acme.test", subject: "in the preset", text: "x" });
    await admin(src, "POST", "/chaos/presets/email/bounce", { times: 2 });
    const name = uniqueId("checkout-ready").toLowerCase();

    const saved = await api("POST", "/v1/presets", inject("orgKey"), { runId: src.runId, name, description: "one email, bounces on" });
    expect(saved.status).toBe(201);
    expect(saved.json).toMatchObject({ name, seed: `org:${name}`, kinds: ["email"], source: src.runId, chaos: [{ kind: "email", preset: "bounce", times: 2 }] });
    expect((await api("GET", "/v1/seeds", inject("orgKey"))).json.data.map((s: any) => s.name)).toContain(`org:${name}`);

    // A new session from it holds the world (new credentials, same data) and the chaos rule.
    const child = (await api("POST", "/v1/runs", inject("orgKey"), { seed: `org:${name}` })).json as Run & { kinds: string[] };
    expect(child.kinds).toEqual(["email"]);
    expect((await resendOf(child).emails.list()).data!.data.map((e) => e.subject)).toEqual(["in the preset"]);
    expect((await admin(child, "GET", "/chaos/rules")).json.data).toMatchObject([{ kind: "email", preset: "bounce", times: 2, fired: 0 }]);
    // The preset outlives the run it came from.
    await api("DELETE", `/v1/runs/${src.runId}`, inject("orgKey"));
    expect((await api("POST", "/v1/runs", inject("orgKey"), { seed: `org:${name}` })).status).toBe(201);

    // Export, delete, import: the same world again.
    const doc = (await api("GET", `/v1/presets/${name}/export`, inject("orgKey"))).json;
    expect(doc).toMatchObject({ format: "molar-preset", version: 1, name, bundle: expect.any(String) });
    expect((await api("DELETE", `/v1/presets/${name}`, inject("orgKey"))).json).toEqual({ name, deleted: true });
    expect((await api("POST", "/v1/runs", inject("orgKey"), { seed: `org:${name}` })).json.error.code).toBe("unknown_seed");
    expect((await api("POST", "/v1/presets/import", inject("orgKey"), doc)).status).toBe(201);
    const again = (await api("POST", "/v1/runs", inject("orgKey"), { seed: `org:${name}` })).json as Run;
    expect((await resendOf(again).emails.list()).data!.data.map((e) => e.subject)).toEqual(["in the preset"]);

    // Another org neither sees nor spawns it; junk is refused.
    expect((await api("GET", `/v1/presets/${name}`, inject("otherKey"))).status).toBe(404);
    expect((await api("POST", "/v1/runs", inject("otherKey"), { seed: `org:${name}` })).json.error.code).toBe("unknown_seed");
    expect((await api("POST", "/v1/presets/import", inject("orgKey"), { ...doc, bundle: btoa("not gzip") })).json.error.code).toBe("invalid_bundle");
    expect((await api("POST", "/v1/presets/import", inject("orgKey"), { format: "other" })).status).toBe(422);
    expect((await api("POST", "/v1/presets", inject("orgKey"), { runId: child.runId, name: "Bad Name!" })).json.error.code).toBe("invalid_name");
    expect((await api("POST", "/v1/presets", inject("orgKey"), { runId: "nope", name: "x" })).status).toBe(404);
    await api("DELETE", `/v1/presets/${name}`, inject("orgKey"));
  });
});
