// Response bodies and webhook payloads of the email clone, validated against Resend's published
// OpenAPI document (../shared/specs/resend/resend.json, read at run time, never copied here).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Resend } from "resend";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { admin, advance, receiver, spawn } from "./helpers.ts";

const SPEC = path.resolve(import.meta.dirname, "../../../shared/specs/resend/resend.json");
const have = existsSync(SPEC);
if (!have) console.warn(`spec.test: skipped, ${SPEC} is absent (the vendors' specs live in ../shared beside the repo)`);

describe.skipIf(!have)("email clone against Resend's OpenAPI document", () => {
  let validate: (ref: string, value: unknown) => string[];
  let hooks: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    const spec = JSON.parse(readFileSync(SPEC, "utf8"));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: "resend", components: spec.components, webhooks: spec.webhooks });
    validate = (ref, value) => {
      const v = ajv.getSchema(`resend#${ref}`);
      if (!v) throw new Error(`no schema at ${ref}`);
      return v(value) ? [] : (v.errors ?? []).map((e) => `${ref}${e.instancePath} ${e.message}`);
    };
    hooks = await receiver();
  });
  afterAll(() => hooks.close());

  it("answers bodies that validate against the spec's response schemas", async () => {
    const run = await spawn({ kinds: ["email"] });
    const r = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const checks: [string, unknown][] = [];
    const sent = await r.emails.send({ from: "Acme <a@acme.test>", to: "b@acme.test", cc: ["c@acme.test"], subject: "s", html: "<b>x</b>", text: "x" });
    checks.push(["/components/schemas/SendEmailResponse", sent.data]);
    checks.push(["/components/schemas/Email", (await r.emails.get(sent.data!.id)).data]);
    checks.push(["/components/schemas/ListEmailsResponse", (await r.emails.list()).data]);
    checks.push(["/components/schemas/CreateBatchEmailsResponse", (await r.batch.send([{ from: "a@acme.test", to: "b@acme.test", subject: "1", text: "1" }])).data]);
    const d = await r.domains.create({ name: "spec.acme.test" });
    checks.push(["/components/schemas/CreateDomainResponse", d.data]);
    checks.push(["/components/schemas/Domain", (await r.domains.get(d.data!.id)).data]);
    checks.push(["/components/schemas/ListDomainsResponse", (await r.domains.list()).data]);
    checks.push(["/components/schemas/VerifyDomainResponse", (await r.domains.verify(d.data!.id)).data]);
    checks.push(["/components/schemas/UpdateDomainResponseSuccess", (await r.domains.update({ id: d.data!.id, openTracking: true })).data]);
    const k = await r.apiKeys.create({ name: "spec" });
    checks.push(["/components/schemas/CreateApiKeyResponse", k.data]);
    checks.push(["/components/schemas/ListApiKeysResponse", (await r.apiKeys.list()).data]);
    const w = await r.webhooks.create({ endpoint: hooks.url, events: ["email.sent"] });
    checks.push(["/components/schemas/CreateWebhookResponse", w.data]);
    checks.push(["/components/schemas/GetWebhookResponse", (await r.webhooks.get(w.data!.id)).data]);
    checks.push(["/components/schemas/ListWebhooksResponse", (await r.webhooks.list()).data]);
    checks.push(["/components/schemas/UpdateWebhookResponse", (await r.webhooks.update(w.data!.id, { status: "disabled" })).data]);
    checks.push(["/components/schemas/DeleteWebhookResponse", (await r.webhooks.remove(w.data!.id)).data]);
    checks.push(["/components/schemas/DeleteApiKeyResponse", (await r.apiKeys.remove(k.data!.id)).data]);
    checks.push(["/components/schemas/DeleteDomainResponse", (await r.domains.remove(d.data!.id)).data]);
    const seg = await r.segments.create({ name: "spec" });
    checks.push(["/components/schemas/CreateSegmentResponseSuccess", seg.data]);
    checks.push(["/components/schemas/GetSegmentResponseSuccess", (await r.segments.get(seg.data!.id)).data]);
    checks.push(["/components/schemas/ListSegmentsResponseSuccess", (await r.segments.list()).data]);
    const hook = await r.webhooks.create({ endpoint: hooks.url, events: ["contact.created", "contact.updated", "contact.deleted"] });
    // Both names given: unset ones are null, as the SDK's Contact type has them (`string | null`),
    // where the spec types them string.
    const c = await r.contacts.create({ email: "spec@acme.test", firstName: "S", lastName: "P", properties: { plan: "pro" } });
    checks.push(["/components/schemas/CreateContactResponseSuccess", c.data]);
    checks.push(["/components/schemas/GetContactResponseSuccess", (await r.contacts.get(c.data!.id)).data]);
    checks.push(["/components/schemas/ListContactsResponseSuccess", (await r.contacts.list()).data]);
    checks.push(["/components/schemas/UpdateContactResponseSuccess", (await r.contacts.update({ id: c.data!.id, lastName: "T" })).data]);
    checks.push(["/components/schemas/AddContactToSegmentResponseSuccess", (await r.contacts.segments.add({ contactId: c.data!.id, segmentId: seg.data!.id })).data]);
    checks.push(["/components/schemas/ListContactSegmentsResponseSuccess", (await r.contacts.segments.list({ contactId: c.data!.id })).data]);
    checks.push(["/components/schemas/RemoveContactFromSegmentResponseSuccess", (await r.contacts.segments.remove({ contactId: c.data!.id, segmentId: seg.data!.id })).data]);
    checks.push(["/components/schemas/RemoveContactResponseSuccess", (await r.contacts.remove(c.data!.id)).data]);
    checks.push(["/components/schemas/RemoveSegmentResponseSuccess", (await r.segments.remove(seg.data!.id)).data]);
    const tpl = await r.templates.create({ name: "spec", alias: "spec", from: "a@acme.test", subject: "Hi {{{N}}}", html: "<p>{{{N}}}</p>", text: "{{{N}}}", replyTo: ["r@acme.test"], variables: [{ key: "N", type: "string", fallbackValue: "you" }] });
    checks.push(["/components/schemas/CreateTemplateResponseSuccess", tpl.data]);
    checks.push(["/components/schemas/PublishTemplateResponseSuccess", (await r.templates.publish(tpl.data!.id)).data]);
    checks.push(["/components/schemas/UpdateTemplateResponseSuccess", (await r.templates.update(tpl.data!.id, { subject: "Hello {{{N}}}" })).data]);
    checks.push(["/components/schemas/Template", (await r.templates.get(tpl.data!.id)).data]);
    checks.push(["/components/schemas/ListTemplatesResponseSuccess", (await r.templates.list()).data]);
    const dup = await r.templates.duplicate(tpl.data!.id);
    checks.push(["/components/schemas/DuplicateTemplateResponseSuccess", dup.data]);
    checks.push(["/components/schemas/RemoveTemplateResponseSuccess", (await r.templates.remove(dup.data!.id)).data]);
    const segB = await r.segments.create({ name: "spec broadcasts" });
    const bc = await r.broadcasts.create({ segmentId: segB.data!.id, from: "a@acme.test", subject: "s", html: "<p>x</p>", text: "x", name: "spec", replyTo: ["r@acme.test"], previewText: "p" });
    checks.push(["/components/schemas/CreateBroadcastResponseSuccess", bc.data]);
    checks.push(["/components/schemas/UpdateBroadcastResponseSuccess", (await r.broadcasts.update(bc.data!.id, { subject: "s2" })).data]);
    checks.push(["/components/schemas/SendBroadcastResponseSuccess", (await r.broadcasts.send(bc.data!.id, { scheduledAt: "in 1 hour" })).data]);
    checks.push(["/components/schemas/CancelBroadcastResponseSuccess", (await r.broadcasts.cancel(bc.data!.id)).data]);
    checks.push(["/components/schemas/RemoveBroadcastResponseSuccess", (await r.broadcasts.remove(bc.data!.id)).data]);
    // The spec types scheduled_at and sent_at as strings: a draft's are null (as Resend's own examples
    // show), so the one checked was scheduled and has been sent.
    const done = await r.broadcasts.create({ segmentId: segB.data!.id, from: "a@acme.test", subject: "s", html: "<p>x</p>", text: "x", name: "sent", replyTo: ["r@acme.test"], previewText: "p", send: true, scheduledAt: "in 1 hour" });
    await advance(run, "2h");
    checks.push(["/components/schemas/GetBroadcastResponseSuccess", (await r.broadcasts.get(done.data!.id)).data]);
    checks.push(["/components/schemas/ListBroadcastsResponseSuccess", (await r.broadcasts.list()).data]);
    await advance(run, "1s");
    const contactEvents = hooks.got.map((g) => JSON.parse(g.body)).filter((e) => String(e.type).startsWith("contact."));
    expect(contactEvents.map((e) => e.type)).toEqual(["contact.created", "contact.updated", "contact.deleted"]);
    for (const e of contactEvents) checks.push([`/webhooks/${e.type}/post/requestBody/content/application~1json/schema`, e]);
    await r.webhooks.remove(hook.data!.id);
    for (const [ref, body] of checks) {
      expect(body, ref).toBeTruthy();
      expect(validate(ref, body), ref).toEqual([]);
    }
  });

  it("delivers webhook payloads that validate against the spec's webhook schemas", async () => {
    const run = await spawn({ kinds: ["email"] });
    await admin(run, "POST", "/webhooks/endpoints", { kind: "email", url: hooks.url });
    await admin(run, "POST", "/chaos/presets/email/delivery_delay", { times: 1 });
    const r = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    const delayed = await r.emails.send({ from: "a@acme.test", to: "late@acme.test", subject: "s", text: "x", tags: [{ name: "k", value: "v" }], headers: { "X-Ref": "1" } });
    const ids = [delayed.data!.id];
    for (const to of ["delivered@resend.dev", "bounced@resend.dev", "complained@resend.dev"]) ids.push((await r.emails.send({ from: "a@acme.test", to, subject: "s", text: "x" })).data!.id);
    ids.push((await r.emails.send({ from: "a@acme.test", to: "b@acme.test", subject: "s", text: "x", scheduledAt: "in 1 min" })).data!.id);
    await advance(run, "2h");
    const mine = hooks.got.map((g) => JSON.parse(g.body)).filter((e) => ids.includes(e.data.email_id));
    const types = new Set(mine.map((e) => e.type));
    expect([...types].sort()).toEqual(["email.bounced", "email.complained", "email.delivered", "email.delivery_delayed", "email.scheduled", "email.sent"]);
    for (const e of mine) {
      expect(validate(`/webhooks/${e.type.replaceAll("/", "~1")}/post/requestBody/content/application~1json/schema`, e), e.type).toEqual([]);
    }
  });
});
