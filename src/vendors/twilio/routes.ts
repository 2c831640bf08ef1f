// HTTP surface of the Twilio clone: api.twilio.com paths at the root, other product hosts under
// /{subdomain} (CONTRACT section 3). Decode the form, call the domain, encode.
import { Hono, type Context } from "hono";
import type { Kernel, VendorBindings, VendorHono } from "../../kernel/types.ts";
import { TwilioError, twilioErrors } from "./errors.ts";
import { Form } from "./format.ts";
import * as msg from "./messages.ts";
import * as num from "./numbers.ts";
import * as verify from "./verify.ts";
import { lookup } from "./lookup.ts";
import { page2010 } from "./paging.ts";
import * as mg from "./messaging.ts";

type C = Context<{ Bindings: VendorBindings }>;
const form = (c: C) => Form.of(c.env.body);
const query = (c: C) => new Form(new URL(c.req.url).searchParams);
/** `SM123.json` → `SM123` (the SDK always asks for `.json`). */
const sidOf = (file: string) => file.replace(/\.json$/, "");

const ACCOUNT = `${msg.API}/Accounts/:ac`;

export function twilioRouter(k: Kernel): VendorHono {
  const app = new Hono<{ Bindings: VendorBindings }>();
  /** The path's account must be the authenticated one (a run has no subaccounts). */
  const account = (c: C) => {
    if (sidOf(c.req.param("ac") ?? "") !== k.world().credentials.twilio!.accountSid) throw new TwilioError(401, 20003, "Authenticate");
  };

  // ---- Messages
  app.post(`${ACCOUNT}/Messages.json`, (c) => {
    account(c);
    return c.json(msg.messageJson(k, msg.createMessage(k, msg.validateMessage(k, form(c)))), 201);
  });
  app.get(`${ACCOUNT}/Messages.json`, (c) => {
    account(c);
    return c.json(msg.listMessages(k, query(c)));
  });
  app.get(`${ACCOUNT}/Messages/:file`, (c) => {
    account(c);
    return c.json(msg.messageJson(k, msg.getMessage(k, sidOf(c.req.param("file")))));
  });
  app.post(`${ACCOUNT}/Messages/:file`, (c) => {
    account(c);
    return c.json(msg.messageJson(k, msg.updateMessage(k, sidOf(c.req.param("file")), form(c))));
  });
  app.delete(`${ACCOUNT}/Messages/:file`, (c) => {
    account(c);
    msg.deleteMessage(k, sidOf(c.req.param("file")));
    return c.body(null, 204);
  });
  app.get(`${ACCOUNT}/Messages/:sid/Media.json`, (c) => {
    account(c);
    const row = msg.getMessage(k, c.req.param("sid"));
    const media = msg.mediaOf(row).map((m, i) => ({ ...m, seq: -i }));
    return c.json(
      page2010(`${msg.API}/Accounts/${c.req.param("ac")}/Messages/${row.sid}/Media.json`, "media_list", query(c), [], (after, limit) =>
        media.filter((m) => after === null || m.seq < after).slice(0, limit), (m) => msg.mediaJson(k, row, m)),
    );
  });
  app.get(`${ACCOUNT}/Messages/:sid/Media/:file`, (c) => {
    account(c);
    const row = msg.getMessage(k, c.req.param("sid"));
    const m = msg.mediaOf(row).find((x) => x.sid === sidOf(c.req.param("file")));
    if (!m) throw new TwilioError(404, 20404, `The requested resource ${c.req.path} was not found`);
    return c.json(msg.mediaJson(k, row, m));
  });

  // ---- IncomingPhoneNumbers
  app.post(`${ACCOUNT}/IncomingPhoneNumbers.json`, (c) => {
    account(c);
    return c.json(num.numberJson(k, num.createNumber(k, form(c))), 201);
  });
  app.get(`${ACCOUNT}/IncomingPhoneNumbers.json`, (c) => {
    account(c);
    return c.json(num.listNumbers(k, query(c)));
  });
  app.get(`${ACCOUNT}/IncomingPhoneNumbers/:file`, (c) => {
    account(c);
    const sid = sidOf(c.req.param("file"));
    if (!sid.startsWith("PN")) return twilioErrors.notImplemented("GET", c.req.path);
    return c.json(num.numberJson(k, num.getNumber(k, sid)));
  });
  app.post(`${ACCOUNT}/IncomingPhoneNumbers/:file`, (c) => {
    account(c);
    const sid = sidOf(c.req.param("file"));
    // Local.json, Mobile.json, TollFree.json buy a number of that type.
    if (!sid.startsWith("PN")) return c.json(num.numberJson(k, num.createNumber(k, form(c))), 201);
    return c.json(num.numberJson(k, num.updateNumber(k, sid, form(c))));
  });
  app.delete(`${ACCOUNT}/IncomingPhoneNumbers/:file`, (c) => {
    account(c);
    num.deleteNumber(k, sidOf(c.req.param("file")));
    return c.body(null, 204);
  });

  // ---- Verify v2 (verify.twilio.com)
  const V = "/verify/v2/Services";
  app.post(V, (c) => c.json(verify.serviceJson(k, verify.createService(k, form(c))), 201));
  app.get(V, (c) => c.json(verify.listServices(k, query(c))));
  app.get(`${V}/:sid`, (c) => c.json(verify.serviceJson(k, verify.getService(k, c.req.param("sid")))));
  app.post(`${V}/:sid`, (c) => c.json(verify.serviceJson(k, verify.updateService(k, c.req.param("sid"), form(c)))));
  app.delete(`${V}/:sid`, (c) => {
    verify.deleteService(k, c.req.param("sid"));
    return c.body(null, 204);
  });
  app.post(`${V}/:sid/Verifications`, (c) => c.json(verify.verificationJson(k, verify.createVerification(k, c.req.param("sid"), form(c))), 201));
  app.get(`${V}/:sid/Verifications/:vsid`, (c) => c.json(verify.verificationJson(k, verify.getVerification(k, c.req.param("sid"), c.req.param("vsid")))));
  app.post(`${V}/:sid/Verifications/:vsid`, (c) =>
    c.json(verify.verificationJson(k, verify.updateVerification(k, c.req.param("sid"), c.req.param("vsid"), form(c)))),
  );
  app.post(`${V}/:sid/VerificationCheck`, (c) => {
    const r = verify.checkVerification(k, c.req.param("sid"), form(c));
    return "refused" in r ? r.refused.getResponse() : c.json(verify.checkJson(k, r.row, r.valid));
  });

  // ---- Messaging v1 services (messaging.twilio.com)
  const M = "/messaging/v1/Services";
  app.post(M, (c) => c.json(mg.messagingServiceJson(k, mg.createMessagingService(k, form(c))), 201));
  app.get(M, (c) => c.json(mg.listMessagingServices(k, query(c))));
  app.get(`${M}/:sid`, (c) => c.json(mg.messagingServiceJson(k, mg.getMessagingService(k, c.req.param("sid")))));
  app.post(`${M}/:sid`, (c) => c.json(mg.messagingServiceJson(k, mg.updateMessagingService(k, c.req.param("sid"), form(c)))));
  app.delete(`${M}/:sid`, (c) => {
    mg.deleteMessagingService(k, c.req.param("sid"));
    return c.body(null, 204);
  });
  app.post(`${M}/:sid/PhoneNumbers`, (c) => c.json(mg.poolNumberJson(k, mg.addPoolNumber(k, c.req.param("sid"), form(c))), 201));
  app.get(`${M}/:sid/PhoneNumbers`, (c) => c.json(mg.listPoolNumbers(k, c.req.param("sid"), query(c))));
  app.get(`${M}/:sid/PhoneNumbers/:pn`, (c) => c.json(mg.poolNumberJson(k, mg.getPoolNumber(k, c.req.param("sid"), c.req.param("pn")))));
  app.delete(`${M}/:sid/PhoneNumbers/:pn`, (c) => {
    mg.removePoolNumber(k, c.req.param("sid"), c.req.param("pn"));
    return c.body(null, 204);
  });

  // ---- Lookup v2 (lookups.twilio.com), basic validation
  app.get("/lookups/v2/PhoneNumbers/:n", (c) => {
    const q = query(c);
    if (q.get("Fields")) return twilioErrors.notImplemented("GET", `${c.req.path} (Fields=${q.get("Fields")})`);
    return c.json(lookup(k, c.req.param("n"), q.get("CountryCode")));
  });

  return app;
}

// Twilio's product hosts (served under /{subdomain}) and API 2010: an operation there that the
// clone has not built is a 501 in Twilio's shape; any other path is Twilio's 404.
const KNOWN =
  /^\/(2010-04-01|verify|lookups|messaging|conversations|notify|chat|video|voice|studio|serverless|taskrouter|sync|trunking|pricing|numbers|trusthub|content|events|insights|intelligence|flex-api|iam|oauth|proxy|supersim|wireless|bulkexports|accounts|monitor|routes|preview|api)(\/|$)/;

export function twilioUnmatched(method: string, path: string): Response {
  return KNOWN.test(path) ? twilioErrors.notImplemented(method, path) : twilioErrors.notFound(method, path);
}
