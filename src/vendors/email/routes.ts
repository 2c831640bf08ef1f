// HTTP surface of the email clone (Resend API): decode, call the domain, encode.
import { Hono, type Context } from "hono";
import type { Kernel, VendorBindings, VendorHono } from "../../kernel/types.ts";
import { sha256HexSync } from "../../lib/crypto.ts";
import { ResendError, invalid, notFound, resendErrors } from "./errors.ts";
import { cancelEmail, createEmail, emailJson, getRow, listEmails, rescheduleEmail, validateEmail } from "./domain.ts";
import * as res from "./resources.ts";
import * as ct from "./contacts.ts";
import * as tp from "./templates.ts";
import * as bc from "./broadcasts.ts";
import { resendTime } from "./format.ts";

type C = Context<{ Bindings: VendorBindings }>;
const decoder = new TextDecoder();
const text = (c: C) => decoder.decode(c.env.body);

function jsonBody(c: C): unknown {
  const raw = text(c);
  return raw.trim() === "" ? {} : parse(raw);
}

const asObject = (v: unknown): Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid("The request body must be a JSON object.");
  return v as Record<string, unknown>;
};

/**
 * Idempotency-Key as Resend honours it: the same key and payload replay the first response;
 * the same key with another payload is a 409.
 */
function idempotent(k: Kernel, c: C, raw: string, run: () => unknown): Response {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return c.json(run());
  if (key.length < 1 || key.length > 256) throw new ResendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
  const fingerprint = sha256HexSync(`${c.req.path}\n${raw}`);
  const prior = k.idempotency.find("email", key);
  if (prior) {
    if (prior.fingerprint !== fingerprint) {
      throw new ResendError(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.");
    }
    return new Response(prior.body, { status: prior.status, headers: { "content-type": "application/json" } });
  }
  const body = JSON.stringify(run());
  k.idempotency.save("email", key, { fingerprint, status: 200, body, headers: {} });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

// Resource families Resend has: under these, an operation we have not built is a 501, not a 404.
const KNOWN_ROOTS = /^\/(emails|domains|api-keys|broadcasts|audiences|contacts|segments|topics|templates|webhooks|contact-properties|logs|automations|events|suppressions|oauth|inboxes)(\/|$)/;

export function emailRouter(k: Kernel): VendorHono {
  // Not strict: `/emails/` is `/emails`, as at Resend.
  const app = new Hono<{ Bindings: VendorBindings }>({ strict: false });

  app.post("/emails", (c) => {
    const raw = text(c);
    const body = parse(raw);
    return idempotent(k, c, raw, () => ({ id: createEmail(k, validateEmail(k, body)) }));
  });

  app.post("/emails/batch", (c) => {
    const raw = text(c);
    const body = parse(raw);
    if (!Array.isArray(body)) throw invalid("The request body must be an array of emails.");
    if (body.length === 0 || body.length > 100) throw invalid("A batch holds 1 to 100 emails.");
    const permissive = c.req.header("x-batch-validation") === "permissive";
    return idempotent(k, c, raw, () => {
      const errors: { index: number; message: string }[] = [];
      const valid = body.map((item, index) => {
        try {
          return validateEmail(k, item, { batch: true });
        } catch (e) {
          if (!permissive || !(e instanceof ResendError)) throw e;
          errors.push({ index, message: e.message });
          return null;
        }
      });
      const data: { id: string }[] = [];
      for (const v of valid) if (v) data.push({ id: createEmail(k, v) });
      return permissive ? { data, errors } : { data };
    });
  });

  app.get("/emails", (c) => c.json(listEmails(k, c.req.query())));
  app.get("/emails/:id", (c) => c.json(emailJson(getRow(k, c.req.param("id")))));
  app.patch("/emails/:id", (c) => {
    const b = asObject(jsonBody(c));
    rescheduleEmail(k, c.req.param("id"), b.scheduled_at);
    return c.json({ object: "email", id: c.req.param("id") });
  });
  app.post("/emails/:id/cancel", (c) => {
    cancelEmail(k, c.req.param("id"));
    return c.json({ object: "email", id: c.req.param("id") });
  });
  app.get("/emails/:id/attachments", (c) => {
    const row = getRow(k, c.req.param("id"));
    const list = (row.attachments ? JSON.parse(row.attachments) : []) as res.AttachmentJson[];
    return c.json({ object: "list", has_more: false, data: list.map((a) => ({ object: "attachment", id: a.id, filename: a.filename, content_type: a.content_type, size: a.size })) });
  });

  app.post("/domains", (c) => c.json(res.createDomain(k, asObject(jsonBody(c)))));
  app.get("/domains", (c) => c.json(res.listDomains(k)));
  app.get("/domains/:id", (c) => c.json(res.getDomain(k, c.req.param("id"))));
  app.patch("/domains/:id", (c) => c.json(res.updateDomain(k, c.req.param("id"), asObject(jsonBody(c)))));
  app.delete("/domains/:id", (c) => c.json(res.deleteDomain(k, c.req.param("id"))));
  app.post("/domains/:id/verify", (c) => c.json(res.verifyDomain(k, c.req.param("id"))));

  app.post("/api-keys", (c) => c.json(res.createApiKey(k, asObject(jsonBody(c)))));
  app.get("/api-keys", (c) => c.json(res.listApiKeys(k)));
  app.delete("/api-keys/:id", (c) => c.json(res.deleteApiKey(k, c.req.param("id"))));

  // Contacts and segments; /audiences is the legacy name of the same segments.
  const body = (c: C) => asObject(jsonBody(c));
  app.post("/contacts", (c) => c.json(ct.createContact(k, body(c)), 201));
  app.get("/contacts", (c) => c.json(ct.listContacts(k, c.req.query())));
  app.get("/contacts/:id", (c) => (c.req.param("id") === "imports" ? resendErrors.notImplemented("GET", c.req.path) : c.json(ct.getContact(k, c.req.param("id")))));
  app.patch("/contacts/:id", (c) => c.json(ct.updateContact(k, c.req.param("id"), body(c))));
  app.delete("/contacts/:id", (c) => c.json(ct.deleteContact(k, c.req.param("id"))));
  app.get("/contacts/:id/segments", (c) => c.json(ct.listContactSegments(k, c.req.param("id"), c.req.query())));
  app.post("/contacts/:id/segments/:segment", (c) => c.json(ct.addToSegment(k, c.req.param("id"), c.req.param("segment"))));
  app.delete("/contacts/:id/segments/:segment", (c) => c.json(ct.removeFromSegment(k, c.req.param("id"), c.req.param("segment"))));
  for (const noun of ["segment", "audience"] as const) {
    const root = `/${noun}s`;
    app.post(root, (c) => c.json(ct.createSegment(k, body(c), noun), 201));
    app.get(root, (c) => c.json(ct.listSegments(k, c.req.query(), noun)));
    app.get(`${root}/:id`, (c) => c.json(ct.getSegment(k, c.req.param("id"), noun)));
    app.delete(`${root}/:id`, (c) => c.json(ct.deleteSegment(k, c.req.param("id"), noun)));
    app.get(`${root}/:id/contacts`, (c) => c.json(ct.listContacts(k, { ...c.req.query(), segment_id: c.req.param("id") }, noun)));
  }
  // What the SDK sends for a contact given an `audienceId`.
  app.post("/audiences/:aid/contacts", (c) => c.json(ct.createContact(k, body(c), c.req.param("aid")), 201));
  app.get("/audiences/:aid/contacts/:id", (c) => c.json(ct.getContact(k, c.req.param("id"), c.req.param("aid"))));
  app.patch("/audiences/:aid/contacts/:id", (c) => c.json(ct.updateContact(k, c.req.param("id"), body(c), c.req.param("aid"))));
  app.delete("/audiences/:aid/contacts/:id", (c) => c.json(ct.deleteContact(k, c.req.param("id"), c.req.param("aid"))));

  app.post("/broadcasts", (c) => c.json(bc.createBroadcast(k, body(c)), 201));
  app.get("/broadcasts", (c) => c.json(bc.listBroadcasts(k, c.req.query())));
  app.get("/broadcasts/:id", (c) => c.json(bc.getBroadcast(k, c.req.param("id"))));
  app.patch("/broadcasts/:id", (c) => c.json(bc.updateBroadcast(k, c.req.param("id"), body(c))));
  app.delete("/broadcasts/:id", (c) => c.json(bc.deleteBroadcast(k, c.req.param("id"))));
  app.post("/broadcasts/:id/send", (c) => c.json(bc.sendBroadcast(k, c.req.param("id"), body(c))));
  app.post("/broadcasts/:id/cancel", (c) => c.json(bc.cancelBroadcast(k, c.req.param("id"))));
  app.post("/broadcasts/:id/duplicate", (c) => c.json(bc.duplicateBroadcast(k, c.req.param("id"))));

  app.post("/templates", (c) => c.json(tp.createTemplate(k, body(c)), 201));
  app.get("/templates", (c) => c.json(tp.listTemplates(k, c.req.query())));
  app.get("/templates/:id", (c) => c.json(tp.getTemplate(k, c.req.param("id"))));
  app.patch("/templates/:id", (c) => c.json(tp.updateTemplate(k, c.req.param("id"), body(c))));
  app.delete("/templates/:id", (c) => c.json(tp.deleteTemplate(k, c.req.param("id"))));
  app.post("/templates/:id/publish", (c) => c.json(tp.publishTemplate(k, c.req.param("id"))));
  app.post("/templates/:id/duplicate", (c) => c.json(tp.duplicateTemplate(k, c.req.param("id"))));

  // Resend's webhook API and the admin API's email endpoints are one table.
  const hookJson = (e: NonNullable<ReturnType<typeof k.endpoints.get>>) => ({
    object: "webhook", id: e.id, endpoint: e.url, events: e.events, status: e.status, created_at: resendTime(e.createdAt), signing_secret: e.secret,
  });
  const hook = (id: string) => {
    const e = k.endpoints.get(id, "email");
    if (!e) throw notFound("Webhook");
    return e;
  };
  app.post("/webhooks", (c) => {
    const b = asObject(jsonBody(c));
    const e = k.endpoints.create("email", res.validateUrl(b.endpoint, "endpoint"), res.validateEvents(b.events), k.ids.uuid("webhook"));
    return c.json({ object: "webhook", id: e.id, signing_secret: e.secret });
  });
  app.get("/webhooks", (c) => c.json({ object: "list", has_more: false, data: k.endpoints.list("email").map(hookJson) }));
  app.get("/webhooks/:id", (c) => c.json(hookJson(hook(c.req.param("id")))));
  app.patch("/webhooks/:id", (c) => {
    const e = hook(c.req.param("id"));
    const b = asObject(jsonBody(c));
    if (b.status !== undefined && b.status !== "enabled" && b.status !== "disabled") throw invalid("Invalid `status` field. Use `enabled` or `disabled`.");
    k.endpoints.update(e.id, {
      url: b.endpoint === undefined ? undefined : res.validateUrl(b.endpoint, "endpoint"),
      events: b.events === undefined ? undefined : res.validateEvents(b.events),
      status: b.status as "enabled" | "disabled" | undefined,
    });
    return c.json({ object: "webhook", id: e.id });
  });
  app.delete("/webhooks/:id", (c) => {
    const e = hook(c.req.param("id"));
    k.endpoints.remove(e.id);
    return c.json({ object: "webhook", id: e.id, deleted: true });
  });

  return app;
}

/** Under Resend's resource families an unbuilt operation is a 501; elsewhere, Resend's 404. */
export function emailUnmatched(method: string, path: string): Response {
  return KNOWN_ROOTS.test(path) ? resendErrors.notImplemented(method, path) : resendErrors.notFound(method, path);
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw invalid("The request body is not valid JSON.");
  }
}
