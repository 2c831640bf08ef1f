// Messaging v1 services: a pool of the run's numbers to send from (sticky per recipient), an
// inbound webhook for the pool, and a status callback for their messages. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import { TwilioError, badRequest, notFound } from "./errors.ts";
import { Form, isHttpUrl, iso } from "./format.ts";
import { metaPage } from "./paging.ts";
import { getNumber, type NumberRow } from "./numbers.ts";

export type MessagingServiceRow = {
  sid: string;
  seq: number;
  friendly_name: string;
  inbound_request_url: string | null;
  inbound_method: string;
  fallback_url: string | null;
  fallback_method: string;
  status_callback: string | null;
  sticky_sender: number;
  use_inbound_webhook_on_number: number;
  validity_period: number;
  usecase: string;
  date_created: number;
  date_updated: number;
};

const PATH = "/messaging/v1/Services";

function url(f: Form, name: string): string | null | undefined {
  const v = f.get(name);
  if (v === undefined) return undefined;
  if (v === "") return null;
  if (!isHttpUrl(v)) throw badRequest(21502, `${name} is not valid: ${v}`);
  return v;
}
function method(f: Form, name: string): string | undefined {
  const v = f.get(name)?.toUpperCase();
  if (v !== undefined && v !== "GET" && v !== "POST") throw badRequest(21501, `${name} must be GET or POST`);
  return v;
}
function flag(f: Form, name: string): number | undefined {
  const v = f.get(name);
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw badRequest(20001, `Invalid value for ${name}: ${v}`);
  return v === "true" ? 1 : 0;
}
function validity(f: Form): number | undefined {
  const v = f.get("ValidityPeriod");
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 36_000) throw badRequest(21624, "Invalid validity period value.");
  return n;
}

export function createMessagingService(k: Kernel, f: Form): MessagingServiceRow {
  const name = f.get("FriendlyName");
  if (!name) throw badRequest(20001, "Missing required parameter FriendlyName in the post body");
  const sid = k.ids.make("MG", 32, "hex");
  const now = k.clock.now();
  k.sql.exec(
    `INSERT INTO twilio_messaging_services (sid, seq, friendly_name, inbound_request_url, inbound_method, fallback_url, fallback_method, status_callback, sticky_sender,
       use_inbound_webhook_on_number, validity_period, usecase, date_created, date_updated)
     VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM twilio_messaging_services), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    sid, name, url(f, "InboundRequestUrl") ?? null, method(f, "InboundMethod") ?? "POST", url(f, "FallbackUrl") ?? null, method(f, "FallbackMethod") ?? "POST",
    url(f, "StatusCallback") ?? null, flag(f, "StickySender") ?? 1, flag(f, "UseInboundWebhookOnNumber") ?? 0, validity(f) ?? 14_400, f.get("Usecase") ?? "undeclared", now, now,
  );
  return getMessagingService(k, sid);
}

export function findMessagingService(k: Kernel, sid: string): MessagingServiceRow | null {
  return k.sql.exec<MessagingServiceRow>("SELECT * FROM twilio_messaging_services WHERE sid = ?", sid).toArray()[0] ?? null;
}

export function getMessagingService(k: Kernel, sid: string): MessagingServiceRow {
  const r = findMessagingService(k, sid);
  if (!r) throw notFound(`/Services/${sid}`);
  return r;
}

export function updateMessagingService(k: Kernel, sid: string, f: Form): MessagingServiceRow {
  const r = getMessagingService(k, sid);
  const pick = <T>(v: T | undefined, cur: T) => (v === undefined ? cur : v);
  k.sql.exec(
    `UPDATE twilio_messaging_services SET friendly_name = ?, inbound_request_url = ?, inbound_method = ?, fallback_url = ?, fallback_method = ?, status_callback = ?,
       sticky_sender = ?, use_inbound_webhook_on_number = ?, validity_period = ?, usecase = ?, date_updated = ? WHERE sid = ?`,
    f.get("FriendlyName") || r.friendly_name, pick(url(f, "InboundRequestUrl"), r.inbound_request_url), pick(method(f, "InboundMethod"), r.inbound_method),
    pick(url(f, "FallbackUrl"), r.fallback_url), pick(method(f, "FallbackMethod"), r.fallback_method), pick(url(f, "StatusCallback"), r.status_callback),
    pick(flag(f, "StickySender"), r.sticky_sender), pick(flag(f, "UseInboundWebhookOnNumber"), r.use_inbound_webhook_on_number), pick(validity(f), r.validity_period),
    f.get("Usecase") ?? r.usecase, k.clock.now(), sid,
  );
  return getMessagingService(k, sid);
}

export function deleteMessagingService(k: Kernel, sid: string): void {
  getMessagingService(k, sid);
  k.sql.exec("UPDATE twilio_numbers SET messaging_service_sid = NULL, pool_date_added = NULL WHERE messaging_service_sid = ?", sid);
  k.sql.exec("DELETE FROM twilio_messaging_services WHERE sid = ?", sid);
}

export function messagingServiceJson(k: Kernel, r: MessagingServiceRow) {
  const u = `${k.world().urls.twilio}${PATH}/${r.sid}`;
  return {
    sid: r.sid,
    account_sid: k.world().credentials.twilio!.accountSid,
    friendly_name: r.friendly_name,
    date_created: iso(r.date_created),
    date_updated: iso(r.date_updated),
    inbound_request_url: r.inbound_request_url,
    inbound_method: r.inbound_method,
    fallback_url: r.fallback_url,
    fallback_method: r.fallback_method,
    status_callback: r.status_callback,
    sticky_sender: r.sticky_sender === 1,
    mms_converter: true,
    smart_encoding: true,
    scan_message_content: "inherit",
    fallback_to_long_code: true,
    area_code_geomatch: true,
    synchronous_validation: false,
    validity_period: r.validity_period,
    url: u,
    links: {
      channel_senders: `${u}/ChannelSenders`,
      phone_numbers: `${u}/PhoneNumbers`,
      us_app_to_person_usecases: `${u}/Compliance/Usa2p/Usecases`,
      short_codes: `${u}/ShortCodes`,
      us_app_to_person: `${u}/Compliance/Usa2p`,
      alpha_senders: `${u}/AlphaSenders`,
      destination_alpha_senders: `${u}/DestinationAlphaSenders`,
    },
    usecase: r.usecase,
    us_app_to_person_registered: false,
    use_inbound_webhook_on_number: r.use_inbound_webhook_on_number === 1,
  };
}

export function listMessagingServices(k: Kernel, q: Form) {
  return metaPage(k, PATH, "services", q, (limit, offset) =>
    k.sql.exec<MessagingServiceRow>("SELECT * FROM twilio_messaging_services ORDER BY seq LIMIT ? OFFSET ?", limit, offset).toArray(), (r) => messagingServiceJson(k, r));
}

// ---- the sender pool

export function addPoolNumber(k: Kernel, serviceSid: string, f: Form): NumberRow {
  getMessagingService(k, serviceSid);
  const pnSid = f.get("PhoneNumberSid");
  if (!pnSid) throw badRequest(20001, "Missing required parameter PhoneNumberSid in the post body");
  const n = k.sql.exec<NumberRow>("SELECT * FROM twilio_numbers WHERE sid = ?", pnSid).toArray()[0];
  if (!n) throw badRequest(21710, `Phone Number SID ${pnSid} is invalid`);
  if (n.messaging_service_sid) throw new TwilioError(409, 21710, "Phone Number or Short Code is already in a Messaging Service.");
  k.sql.exec("UPDATE twilio_numbers SET messaging_service_sid = ?, pool_date_added = ? WHERE sid = ?", serviceSid, k.clock.now(), pnSid);
  return getNumber(k, pnSid);
}

export function getPoolNumber(k: Kernel, serviceSid: string, pnSid: string): NumberRow {
  getMessagingService(k, serviceSid);
  const n = k.sql.exec<NumberRow>("SELECT * FROM twilio_numbers WHERE sid = ? AND messaging_service_sid = ?", pnSid, serviceSid).toArray()[0];
  if (!n) throw notFound(`/Services/${serviceSid}/PhoneNumbers/${pnSid}`);
  return n;
}

export function removePoolNumber(k: Kernel, serviceSid: string, pnSid: string): void {
  getPoolNumber(k, serviceSid, pnSid);
  k.sql.exec("UPDATE twilio_numbers SET messaging_service_sid = NULL, pool_date_added = NULL WHERE sid = ?", pnSid);
}

export function poolNumberJson(k: Kernel, n: NumberRow) {
  return {
    sid: n.sid,
    account_sid: k.world().credentials.twilio!.accountSid,
    service_sid: n.messaging_service_sid,
    date_created: iso(n.pool_date_added ?? n.date_created),
    date_updated: iso(n.pool_date_added ?? n.date_updated),
    phone_number: n.phone_number,
    country_code: "US",
    capabilities: ["SMS", "MMS", "Voice"],
    url: `${k.world().urls.twilio}${PATH}/${n.messaging_service_sid}/PhoneNumbers/${n.sid}`,
  };
}

export function listPoolNumbers(k: Kernel, serviceSid: string, q: Form) {
  getMessagingService(k, serviceSid);
  return metaPage(k, `${PATH}/${serviceSid}/PhoneNumbers`, "phone_numbers", q, (limit, offset) =>
    k.sql.exec<NumberRow>("SELECT * FROM twilio_numbers WHERE messaging_service_sid = ? ORDER BY pool_date_added, seq LIMIT ? OFFSET ?", serviceSid, limit, offset).toArray(),
    (n) => poolNumberJson(k, n));
}

/**
 * The sender a service picks for a recipient: with a sticky sender, the number that last wrote
 * to them; else the pool's first number. Null when the pool is empty.
 */
export function pickSender(k: Kernel, svc: MessagingServiceRow, to: string): string | null {
  if (svc.sticky_sender === 1) {
    const last = k.sql
      .exec<{ f: string }>(
        `SELECT m."from" AS f FROM twilio_messages m JOIN twilio_numbers n ON n.phone_number = m."from" AND n.messaging_service_sid = ?
         WHERE m."to" = ? AND m.messaging_service_sid = ? ORDER BY m.seq DESC LIMIT 1`,
        svc.sid, to, svc.sid,
      )
      .toArray()[0];
    if (last) return last.f;
  }
  return k.sql.exec<{ p: string }>("SELECT phone_number AS p FROM twilio_numbers WHERE messaging_service_sid = ? ORDER BY pool_date_added, seq LIMIT 1", svc.sid).toArray()[0]?.p ?? null;
}
