// Templates and broadcasts of the email clone through the official `resend` SDK: drafts,
// publishing, versions, sends that fill a published template's variables, and broadcasts to a
// segment's subscribed contacts, sent at once or on the run clock.
import { beforeAll, describe, expect, it } from "vitest";
import { Resend } from "resend";
import { admin, advance, endingRuns, type Run } from "./helpers.ts";

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

  it("broadcasts to a segment's subscribed contacts, personalised, now or on the run clock", async () => {
    const run = await spawn({ kinds: ["email"] });
    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const seg = (await resend.segments.create({ name: "News" })).data!;
    await resend.contacts.create({ email: "ada@acme.test", firstName: "Ada", segments: [{ id: seg.id }] });
    await resend.contacts.create({ email: "bob@acme.test", segments: [{ id: seg.id }] });
    await resend.contacts.create({ email: "gone@acme.test", firstName: "Gone", unsubscribed: true, segments: [{ id: seg.id }] });
    await resend.contacts.create({ email: "other@acme.test", firstName: "Other" });

    const draft = await resend.broadcasts.create({ segmentId: seg.id, from: "News <news@acme.test>", subject: "Hi {{{FIRST_NAME|there}}}", html: "<p>Hello {{{FIRST_NAME|friend}}} ({{{EMAIL}}})</p><a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">unsubscribe</a>", name: "November" });
    expect(draft.error).toBeNull();
    expect(draft.data).toEqual({ id: expect.stringMatching(UUID), object: "broadcast" });
    expect((await resend.broadcasts.get(draft.data!.id)).data).toMatchObject({ object: "broadcast", status: "draft", segment_id: seg.id, name: "November", sent_at: null });

    expect((await resend.broadcasts.send(draft.data!.id)).data).toEqual({ id: draft.data!.id });
    const sent = (await resend.broadcasts.get(draft.data!.id)).data!;
    expect(sent.status).toBe("sent");
    const inbox = (await admin(run, "GET", "/inbox?channel=email")).json.data as { to: string; subject: string; html: string }[];
    expect(inbox.map((m) => [m.to, m.subject]).sort()).toEqual([["ada@acme.test", "Hi Ada"], ["bob@acme.test", "Hi there"]]);
    expect(inbox.find((m) => m.to === "bob@acme.test")!.html).toContain("Hello friend (bob@acme.test)");
    expect(inbox.find((m) => m.to === "ada@acme.test")!.html).toMatch(new RegExp(`href="${run.clones.email.url}/unsubscribe/${draft.data!.id}/[0-9a-f-]+"`));
    expect((await resend.broadcasts.send(draft.data!.id)).error).toMatchObject({ statusCode: 422 });
    expect((await resend.broadcasts.remove(draft.data!.id)).error).toMatchObject({ statusCode: 422 });

    const later = await resend.broadcasts.create({ segmentId: seg.id, from: "news@acme.test", subject: "Later", text: "Soon, {{{FIRST_NAME|you}}}", send: true, scheduledAt: "in 1 hour" });
    expect((await resend.broadcasts.get(later.data!.id)).data).toMatchObject({ status: "scheduled", scheduled_at: expect.any(String) });
    const before = ((await admin(run, "GET", "/inbox?channel=email")).json.data as unknown[]).length;
    await advance(run, "2h");
    expect((await resend.broadcasts.get(later.data!.id)).data?.status).toBe("sent");
    expect(((await admin(run, "GET", "/inbox?channel=email")).json.data as unknown[]).length).toBe(before + 2);

    const canceled = await resend.broadcasts.create({ segmentId: seg.id, from: "news@acme.test", subject: "Never", text: "x", send: true, scheduledAt: "in 1 day" });
    expect((await resend.broadcasts.cancel(canceled.data!.id)).error).toBeNull();
    expect((await resend.broadcasts.get(canceled.data!.id)).data?.status).toBe("draft");
    expect((await resend.broadcasts.remove(canceled.data!.id)).data).toEqual({ id: canceled.data!.id, object: "broadcast", deleted: true });
    expect((await resend.broadcasts.list()).data?.data.map((b) => b.id)).toEqual([later.data!.id, draft.data!.id]);

    expect((await resend.broadcasts.create({ segmentId: seg.id, subject: "x", text: "x" } as never)).error).toMatchObject({ statusCode: 422, name: "missing_required_field" });
    expect((await resend.broadcasts.create({ segmentId: "8d6f0e2a-0000-4000-8000-000000000000", from: "a@acme.test", subject: "x", text: "x" })).error).toMatchObject({ statusCode: 404 });
  });
});
