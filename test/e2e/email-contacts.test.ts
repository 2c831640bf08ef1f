// Contacts and segments of the email clone through the official `resend` SDK (audiences are its
// old name for segments); contact webhooks verified by the SDK's own verifier.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Resend } from "resend";
import { advance, endingRuns, receiver, type Run } from "./helpers.ts";

const spawn = endingRuns();
const resendOf = (run: Run) => new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("email clone: contacts and segments through the resend SDK", () => {
  let run: Run;
  let resend: Resend;
  beforeAll(async () => {
    run = await spawn({ kinds: ["email"] });
    resend = resendOf(run);
  });

  it("creates segments and contacts in them, reads contacts by id or email, and pages them", async () => {
    const seg = await resend.segments.create({ name: "Beta users" });
    expect(seg.error).toBeNull();
    expect(seg.data).toEqual({ object: "segment", id: expect.stringMatching(UUID), name: "Beta users" });
    const got = await resend.segments.get(seg.data!.id);
    expect(got.data).toMatchObject({ object: "segment", id: seg.data!.id, name: "Beta users" });
    expect(got.data!.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+00$/);

    const made = await resend.contacts.create({ email: "Ada@Acme.test", firstName: "Ada", lastName: "Lovelace", properties: { plan: "pro", seats: 3 }, segments: [{ id: seg.data!.id }] });
    expect(made.error).toBeNull();
    expect(made.data).toEqual({ object: "contact", id: expect.stringMatching(UUID) });
    const other = await resend.contacts.create({ email: "grace@acme.test" });

    const byId = await resend.contacts.get(made.data!.id);
    expect(byId.data).toMatchObject({
      object: "contact", id: made.data!.id, email: "ada@acme.test", first_name: "Ada", last_name: "Lovelace", unsubscribed: false,
      properties: { plan: { type: "string", value: "pro" }, seats: { type: "number", value: 3 } },
    });
    expect((await resend.contacts.get({ email: "ada@acme.test" })).data?.id).toBe(made.data!.id);
    expect((await resend.contacts.get({ email: "grace@acme.test" })).data).toMatchObject({ first_name: null, last_name: null, properties: {} });

    // Resend neither refuses nor changes a contact created twice.
    const again = await resend.contacts.create({ email: "ada@acme.test", firstName: "Someone else" });
    expect(again.data?.id).toBe(made.data!.id);
    expect((await resend.contacts.get(made.data!.id)).data?.first_name).toBe("Ada");

    const all = await resend.contacts.list();
    expect(all.data?.object).toBe("list");
    expect(all.data?.data.map((c) => c.email)).toEqual(["grace@acme.test", "ada@acme.test"]);
    const first = await resend.contacts.list({ limit: 1 });
    expect(first.data).toMatchObject({ has_more: true, data: [{ id: other.data!.id }] });
    const next = await resend.contacts.list({ limit: 1, after: other.data!.id });
    expect(next.data).toMatchObject({ has_more: false, data: [{ id: made.data!.id }] });
    const inSeg = await resend.contacts.list({ segmentId: seg.data!.id });
    expect(inSeg.data?.data.map((c) => c.id)).toEqual([made.data!.id]);
  });

  it("updates a contact, moves it between segments, and removes it", async () => {
    const a = (await resend.segments.create({ name: "A" })).data!;
    const b = (await resend.segments.create({ name: "B" })).data!;
    const id = (await resend.contacts.create({ email: "lin@acme.test", properties: { plan: "free", team: "x" } })).data!.id;

    const upd = await resend.contacts.update({ email: "lin@acme.test", firstName: "Lin", unsubscribed: true, properties: { plan: "pro", team: null } });
    expect(upd.data).toEqual({ object: "contact", id });
    expect((await resend.contacts.get(id)).data).toMatchObject({ first_name: "Lin", unsubscribed: true, properties: { plan: { type: "string", value: "pro" } } });
    expect((await resend.contacts.get(id)).data?.properties).not.toHaveProperty("team");

    expect((await resend.contacts.segments.add({ contactId: id, segmentId: a.id })).error).toBeNull();
    expect((await resend.contacts.segments.add({ email: "lin@acme.test", segmentId: b.id })).error).toBeNull();
    const mine = await resend.contacts.segments.list({ contactId: id });
    expect(mine.data?.data.map((s) => s.name)).toEqual(["B", "A"]);
    const out = await resend.contacts.segments.remove({ contactId: id, segmentId: a.id });
    expect(out.data).toMatchObject({ deleted: true });
    expect((await resend.contacts.segments.list({ contactId: id })).data?.data.map((s) => s.id)).toEqual([b.id]);
    const twice = await resend.contacts.segments.remove({ contactId: id, segmentId: a.id });
    expect(twice.error).toMatchObject({ name: "not_found", statusCode: 404 });

    // Deleting a segment empties it; its contacts stay.
    expect((await resend.segments.remove(b.id)).data).toEqual({ object: "segment", id: b.id, deleted: true });
    expect((await resend.segments.get(b.id)).error).toMatchObject({ name: "not_found", statusCode: 404 });
    expect((await resend.contacts.segments.list({ contactId: id })).data?.data).toEqual([]);

    expect((await resend.contacts.remove({ email: "lin@acme.test" })).data).toEqual({ object: "contact", id, deleted: true });
    expect((await resend.contacts.get(id)).error).toMatchObject({ name: "not_found", statusCode: 404, message: "Contact not found" });
  });

  it("answers Resend's errors and keeps nothing of a refused request", async () => {
    const noEmail = await resend.contacts.create({ email: undefined as unknown as string });
    expect(noEmail.error).toMatchObject({ name: "missing_required_field", statusCode: 422 });
    const bad = await resend.contacts.create({ email: "not-an-address" });
    expect(bad.error).toMatchObject({ name: "validation_error", statusCode: 422 });
    const ghost = await resend.contacts.create({ email: "ghost@acme.test", segments: [{ id: "8d6f0e2a-0000-4000-8000-000000000000" }] });
    expect(ghost.error).toMatchObject({ name: "not_found", statusCode: 404 });
    expect((await resend.contacts.get({ email: "ghost@acme.test" })).error).toMatchObject({ statusCode: 404 });
    expect((await resend.segments.create({ name: "" })).error).toMatchObject({ statusCode: 422 });
    // Contact imports and topics are not built: Resend's routes, the clone's 501.
    const imports = await fetch(`${run.clones.email.url}/contacts/imports`, { headers: { authorization: `Bearer ${run.clones.email.apiKey}` } });
    expect(imports.status).toBe(501);
    expect(await imports.json()).toMatchObject({ statusCode: 501, name: "not_implemented" });
  });

  it("serves the legacy audiences and a contact given an audienceId", async () => {
    const headers = { authorization: `Bearer ${run.clones.email.apiKey}`, "content-type": "application/json" };
    const aud = (await (await fetch(`${run.clones.email.url}/audiences`, { method: "POST", headers, body: JSON.stringify({ name: "Newsletter" }) })).json()) as { object: string; id: string; name: string };
    expect(aud).toEqual({ object: "audience", id: expect.stringMatching(UUID), name: "Newsletter" });
    const made = await resend.contacts.create({ audienceId: aud.id, email: "old@acme.test", firstName: "Old" });
    expect(made.error).toBeNull();
    expect((await resend.contacts.get({ audienceId: aud.id, email: "old@acme.test" })).data).toMatchObject({ id: made.data!.id, first_name: "Old" });
    expect((await resend.contacts.list({ audienceId: aud.id })).data?.data.map((c) => c.id)).toEqual([made.data!.id]);
    // Not in that audience: not found there.
    const elsewhere = (await resend.contacts.create({ email: "new@acme.test" })).data!.id;
    expect((await resend.contacts.get({ audienceId: aud.id, id: elsewhere })).error).toMatchObject({ statusCode: 404 });
    const listed = (await (await fetch(`${run.clones.email.url}/audiences`, { headers })).json()) as { data: { id: string }[] };
    expect(listed.data.map((a) => a.id)).toContain(aud.id);
    expect(await (await fetch(`${run.clones.email.url}/audiences/${aud.id}`, { method: "DELETE", headers })).json()).toEqual({ object: "audience", id: aud.id, deleted: true });
  });

  describe("webhooks", () => {
    let hooks: Awaited<ReturnType<typeof receiver>>;
    beforeAll(async () => {
      hooks = await receiver();
    });
    afterAll(() => hooks.close());

    it("sends contact.created, contact.updated and contact.deleted, verified by the SDK", async () => {
      const run = await spawn({ kinds: ["email"] });
      const resend = resendOf(run);
      const hook = (await resend.webhooks.create({ endpoint: hooks.url, events: ["contact.created", "contact.updated", "contact.deleted"] })).data!;
      const seg = (await resend.segments.create({ name: "S" })).data!;
      const id = (await resend.contacts.create({ email: "hook@acme.test", firstName: "H", segments: [{ id: seg.id }] })).data!.id;
      await resend.contacts.update({ id, unsubscribed: true });
      await resend.contacts.remove(id);
      await advance(run, "1s");
      const events = hooks.got.map((g) => {
        resend.webhooks.verify({
          payload: g.body,
          headers: { id: g.headers["svix-id"] as string, timestamp: g.headers["svix-timestamp"] as string, signature: g.headers["svix-signature"] as string },
          webhookSecret: hook.signing_secret,
        });
        return JSON.parse(g.body) as { type: string; data: { id: string; email: string; unsubscribed: boolean; segment_ids: string[]; first_name?: string } };
      });
      expect(events.map((e) => e.type)).toEqual(["contact.created", "contact.updated", "contact.deleted"]);
      expect(events[0].data).toMatchObject({ id, email: "hook@acme.test", first_name: "H", unsubscribed: false, segment_ids: [seg.id] });
      expect(events[1].data.unsubscribed).toBe(true);
      expect(events[2].data.id).toBe(id);
    });
  });
});
