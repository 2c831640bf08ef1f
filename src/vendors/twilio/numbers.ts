// IncomingPhoneNumbers (API 2010): the run's own numbers and the webhooks apps set on them.
import type { Kernel } from "../../kernel/types.ts";
import { badRequest, notFound } from "./errors.ts";
import { API } from "./messages.ts";
import { page2010 } from "./paging.ts";
import { Form, e164, isHttpUrl, rfc2822 } from "./format.ts";

export type NumberRow = {
  sid: string;
  seq: number;
  phone_number: string;
  friendly_name: string;
  sms_url: string | null;
  sms_method: string;
  status_callback: string | null;
  status_callback_method: string;
  voice_url: string | null;
  messaging_service_sid: string | null;
  pool_date_added: number | null;
  date_created: number;
  date_updated: number;
};

const METHODS = new Set(["GET", "POST"]);

function url(f: Form, name: string): string | null | undefined {
  const v = f.get(name);
  if (v === undefined) return undefined;
  if (v === "") return null;
  if (!isHttpUrl(v)) throw badRequest(21502, `${name} is not valid: ${v}`);
  return v;
}

function method(f: Form, name: string): string | undefined {
  const v = f.get(name)?.toUpperCase();
  if (v !== undefined && !METHODS.has(v)) throw badRequest(21501, `${name} must be GET or POST`);
  return v;
}

/** Twilio's national format for a North American number: "(415) 555-0100". */
export function friendly(n: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(n);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : n;
}

/** Buys a number: `PhoneNumber` as given, or one from `AreaCode`; Twilio's magic numbers apply. */
export function createNumber(k: Kernel, f: Form): NumberRow {
  const raw = f.get("PhoneNumber");
  const area = f.get("AreaCode");
  let n: string | null;
  if (raw !== undefined) {
    n = e164(raw);
    if (!n || n === "+15005550001") throw badRequest(21421, "PhoneNumber is invalid");
    if (n === "+15005550000") throw badRequest(21422, "PhoneNumber is not available");
  } else if (area !== undefined) {
    if (!/^[2-9]\d{2}$/.test(area)) throw badRequest(21451, "Invalid area code");
    if (area === "533") throw badRequest(21452, "No phone numbers found in area code");
    n = null;
    for (let i = 0; i < 50 && !n; i++) {
      const cand = `+1${area}555${String(Math.floor(k.rng.float("twilio.numbers") * 10_000)).padStart(4, "0")}`;
      if (!taken(k, cand)) n = cand;
    }
    if (!n) throw badRequest(21452, "No phone numbers found in area code");
  } else {
    throw badRequest(21450, "A PhoneNumber or AreaCode is required");
  }
  if (taken(k, n)) throw badRequest(21422, "PhoneNumber is not available");
  const sid = k.ids.make("PN", 32, "hex");
  const now = k.clock.now();
  k.sql.exec(
    `INSERT INTO twilio_numbers (sid, seq, phone_number, friendly_name, sms_url, sms_method, status_callback, status_callback_method, voice_url, date_created, date_updated)
     VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM twilio_numbers), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    sid, n, f.get("FriendlyName") || friendly(n), url(f, "SmsUrl") ?? null, method(f, "SmsMethod") ?? "POST", url(f, "StatusCallback") ?? null,
    method(f, "StatusCallbackMethod") ?? "POST", url(f, "VoiceUrl") ?? null, now, now,
  );
  return getNumber(k, sid);
}

const taken = (k: Kernel, n: string) => k.sql.exec("SELECT 1 FROM twilio_numbers WHERE phone_number = ?", n).toArray().length > 0;

export function getNumber(k: Kernel, sid: string): NumberRow {
  const row = k.sql.exec<NumberRow>("SELECT * FROM twilio_numbers WHERE sid = ?", sid).toArray()[0];
  if (!row) throw notFound(`${API}/Accounts/${k.world().credentials.twilio!.accountSid}/IncomingPhoneNumbers/${sid}.json`);
  return row;
}

export function numberByPhone(k: Kernel, n: string): NumberRow | null {
  return k.sql.exec<NumberRow>("SELECT * FROM twilio_numbers WHERE phone_number = ?", n).toArray()[0] ?? null;
}

export function updateNumber(k: Kernel, sid: string, f: Form): NumberRow {
  const r = getNumber(k, sid);
  const smsUrl = url(f, "SmsUrl");
  const cb = url(f, "StatusCallback");
  const voice = url(f, "VoiceUrl");
  k.sql.exec(
    `UPDATE twilio_numbers SET friendly_name = ?, sms_url = ?, sms_method = ?, status_callback = ?, status_callback_method = ?, voice_url = ?, date_updated = ? WHERE sid = ?`,
    f.get("FriendlyName") || r.friendly_name, smsUrl === undefined ? r.sms_url : smsUrl, method(f, "SmsMethod") ?? r.sms_method,
    cb === undefined ? r.status_callback : cb, method(f, "StatusCallbackMethod") ?? r.status_callback_method, voice === undefined ? r.voice_url : voice, k.clock.now(), sid,
  );
  return getNumber(k, sid);
}

export function deleteNumber(k: Kernel, sid: string): void {
  getNumber(k, sid);
  k.sql.exec("DELETE FROM twilio_numbers WHERE sid = ?", sid);
}

export function numberJson(k: Kernel, r: NumberRow) {
  const ac = k.world().credentials.twilio!.accountSid;
  return {
    account_sid: ac,
    address_sid: null,
    address_requirements: "none",
    api_version: "2010-04-01",
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(r.date_created),
    date_updated: rfc2822(r.date_updated),
    friendly_name: r.friendly_name,
    identity_sid: null,
    phone_number: r.phone_number,
    origin: "twilio",
    sid: r.sid,
    sms_application_sid: null,
    sms_fallback_method: "POST",
    sms_fallback_url: "",
    sms_method: r.sms_method,
    sms_url: r.sms_url ?? "",
    status_callback: r.status_callback ?? "",
    status_callback_method: r.status_callback_method,
    trunk_sid: null,
    uri: `${API}/Accounts/${ac}/IncomingPhoneNumbers/${r.sid}.json`,
    voice_receive_mode: "voice",
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: "POST",
    voice_fallback_url: null,
    voice_method: "POST",
    voice_url: r.voice_url,
    emergency_status: "Inactive",
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    bundle_sid: null,
    status: "in-use",
    type: "local",
  };
}

export function listNumbers(k: Kernel, q: Form) {
  const ac = k.world().credentials.twilio!.accountSid;
  const pn = q.get("PhoneNumber");
  const fn = q.get("FriendlyName");
  const pnN = pn === undefined ? null : (e164(pn) ?? pn);
  return page2010(
    `${API}/Accounts/${ac}/IncomingPhoneNumbers.json`,
    "incoming_phone_numbers",
    q,
    [["PhoneNumber", pn], ["FriendlyName", fn]],
    (cursor, limit) =>
      k.sql
        .exec<NumberRow>(
          "SELECT * FROM twilio_numbers WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR phone_number = ?2) AND (?3 IS NULL OR friendly_name = ?3) ORDER BY seq DESC LIMIT ?4",
          cursor, pnN, fn ?? null, limit,
        )
        .toArray(),
    (r) => numberJson(k, r),
  );
}
