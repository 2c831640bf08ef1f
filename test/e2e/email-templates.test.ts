// Templates of the email clone through the official `resend` SDK: drafts, publishing, versions,
// and sends that fill a published template's variables.
import { beforeAll, describe, expect, it } from "vitest";
import { Resend } from "resend";
import { admin, endingRuns, type Run } from "./helpers.ts";

const spawn = endingRuns();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("email clone: templates through the resend SDK", () => {
  let run: Run;
  let resend: Resend;
  beforeAll(async () => {
    run = await spawn({ kinds: ["email"] });
    resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
  });

  it("creates a draft, publishes it, and sends with its variables and fallbacks", async () => {
    const made = await resend.templates.create({
      name: "Welcome",
      alias: "welcome",
      from: "Acme <hello@acme.test>",
      subject: "Welcome, {{{NAME}}}",
      html: "<p>Hi {{{NAME}}}, your plan is {{{PLAN}}}.</p>",
      text: "Hi {{{NAME}}}, your plan is {{{PLAN}}}.",
      variables: [{ key: "NAME", type: "string" }, { key: "PLAN", type: "string", fallbackValue: "Free" }],
    });
    expect(made.error).toBeNull();
    expect(made.data).toEqual({ id: expect.stringMatching(UUID), object: "template" });
    const draft = await resend.templates.get(made.data!.id);
    expect(draft.data).toMatchObject({ object: "template", name: "Welcome", alias: "welcome", status: "draft", published_at: null, variables: [{ key: "NAME", type: "string", fallback_value: null }, { key: "PLAN", fallback_value: "Free" }] });

    // A draft cannot be sent with.
    const early = await resend.emails.send({ to: "ada@acme.test", template: { id: "welcome", variables: { NAME: "Ada" } } } as never);
    expect(early.error).toMatchObject({ statusCode: 422, name: "validation_error" });

    expect((await resend.templates.publish("welcome")).data).toEqual({ id: made.data!.id, object: "template" });
    expect((await resend.templates.get("welcome")).data).toMatchObject({ status: "published", has_unpublished_versions: false });

    const sent = await resend.emails.send({ to: "ada@acme.test", template: { id: made.data!.id, variables: { NAME: "Ada" } } } as never);
    expect(sent.error).toBeNull();
    const email = await resend.emails.get(sent.data!.id);
    expect(email.data).toMatchObject({ from: "Acme <hello@acme.test>", subject: "Welcome, Ada", html: "<p>Hi Ada, your plan is Free.</p>", text: "Hi Ada, your plan is Free." });
    const inbox = await admin(run, "GET", "/inbox?to=ada@acme.test");
    expect(inbox.json.data[0]).toMatchObject({ channel: "email", subject: "Welcome, Ada" });

    // Edits make a new draft; sends keep using the published version until it is published again.
    await resend.templates.update("welcome", { subject: "Hello again, {{{NAME}}}" });
    expect((await resend.templates.get("welcome")).data).toMatchObject({ subject: "Hello again, {{{NAME}}}", has_unpublished_versions: true });
    const still = await resend.emails.send({ to: "ada@acme.test", subject: "Override", template: { id: "welcome", variables: { NAME: "Ada", PLAN: "Pro" } } } as never);
    expect((await resend.emails.get(still.data!.id)).data).toMatchObject({ subject: "Override", html: "<p>Hi Ada, your plan is Pro.</p>" });
    await resend.templates.publish("welcome");
    const next = await resend.emails.send({ to: "ada@acme.test", template: { id: "welcome", variables: { NAME: "Ada" } } } as never);
    expect((await resend.emails.get(next.data!.id)).data?.subject).toBe("Hello again, Ada");
  });

  it("refuses what Resend refuses, lists, duplicates and deletes", async () => {
    const t = (await resend.templates.create({ name: "Receipt", html: "<p>{{{TOTAL}}}</p>", subject: "Receipt", from: "billing@acme.test", variables: [{ key: "TOTAL", type: "number" }] }).publish()).data!;
    const missing = await resend.emails.send({ to: "b@acme.test", template: { id: t.id } } as never);
    expect(missing.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    const unknown = await resend.emails.send({ to: "b@acme.test", template: { id: t.id, variables: { TOTAL: 3, OTHER: "x" } } } as never);
    expect(unknown.error).toMatchObject({ statusCode: 422 });
    const both = await resend.emails.send({ to: "b@acme.test", html: "<p>x</p>", template: { id: t.id, variables: { TOTAL: 3 } } } as never);
    expect(both.error).toMatchObject({ statusCode: 422 });
    const nowhere = await resend.emails.send({ to: "b@acme.test", template: { id: "no-such-template" } } as never);
    expect(nowhere.error).toMatchObject({ statusCode: 404, name: "not_found" });
    expect((await resend.templates.create({ name: "No body" } as never)).error).toMatchObject({ statusCode: 422, name: "missing_required_field" });
    expect((await resend.templates.create({ name: "Bad", html: "x", variables: [{ key: "A", type: "date" as "string" }] })).error).toMatchObject({ statusCode: 422 });

    const copy = await resend.templates.duplicate(t.id);
    expect((await resend.templates.get(copy.data!.id)).data).toMatchObject({ name: "Receipt (Copy)", status: "draft", html: "<p>{{{TOTAL}}}</p>" });
    const list = await resend.templates.list();
    expect(list.data?.data.map((x) => x.id).slice(0, 2)).toEqual([copy.data!.id, t.id]);
    expect((await resend.templates.remove(copy.data!.id)).data).toEqual({ object: "template", id: copy.data!.id, deleted: true });
    expect((await resend.templates.get(copy.data!.id)).error).toMatchObject({ statusCode: 404 });
  });
});
