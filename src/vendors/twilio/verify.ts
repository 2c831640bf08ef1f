// Verify v2: services, verifications (OTP codes delivered to the run's inbox), checks, the
// 10-minute expiry on the run clock and the send/check attempt limits. Never sees a Request.
import type { Kernel } from "../../kernel/types.ts";
import { TwilioError, badRequest, invalidParam, notFound } from "./errors.ts";
import { Form, e164, iso } from "./format.ts";
import { metaPage } from "./paging.ts";

export const EXPIRE_JOB = "twilio.verification.expire";
const TTL_MS = 600_000;
const MAX_SENDS = 5;
const MAX_CHECKS = 5;
const CHANNELS = new Set(["sms", "call", "email", "whatsapp"]);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type ServiceRow = {
  sid: string;
  seq: number;
  friendly_name: string;
  code_length: number;
  lookup_enabled: number;
  skip_sms_to_landlines: number;
  dtmf_input_required: number;
  do_not_share_warning_enabled: number;
  custom_code_enabled: number;
  date_created: number;
  date_updated: number;
};

export type VerificationRow = {
  sid: string;
  service_sid: string;
  to: string;
  channel: string;
  status: string;
  code: string;
  send_attempts: string;
  check_attempts: number;
  expires_at: number;
  date_created: number;
  date_updated: number;
};

const base = (k: Kernel) => `${k.world().urls.twilio}/verify/v2`;
const bool = (f: Form, name: string): boolean | undefined => {
  const v = f.get(name);
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw invalidParam(name);
  return v === "true";
};

function codeLength(f: Form): number | undefined {
  const v = f.get("CodeLength");
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4 || n > 10) throw invalidParam("CodeLength");
  return n;
}

export function createService(k: Kernel, f: Form): ServiceRow {
  const name = f.get("FriendlyName");
  if (!name) throw badRequest(20001, "Missing required parameter FriendlyName in the post body");
  if (name.length > 30) throw invalidParam("FriendlyName");
  const sid = k.ids.make("VA", 32, "hex");
  const now = k.clock.now();
  k.sql.exec(
    `INSERT INTO twilio_verify_services (sid, seq, friendly_name, code_length, lookup_enabled, skip_sms_to_landlines, dtmf_input_required, do_not_share_warning_enabled, custom_code_enabled, date_created, date_updated)
     VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM twilio_verify_services), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    sid, name, codeLength(f) ?? 6, Number(bool(f, "LookupEnabled") ?? false), Number(bool(f, "SkipSmsToLandlines") ?? false),
    Number(bool(f, "DtmfInputRequired") ?? true), Number(bool(f, "DoNotShareWarningEnabled") ?? false), Number(bool(f, "CustomCodeEnabled") ?? false), now, now,
  );
  return getService(k, sid);
}

export function getService(k: Kernel, sid: string): ServiceRow {
  const r = k.sql.exec<ServiceRow>("SELECT * FROM twilio_verify_services WHERE sid = ?", sid).toArray()[0];
  if (!r) throw notFound(`/Services/${sid}`);
  return r;
}

export function updateService(k: Kernel, sid: string, f: Form): ServiceRow {
  const r = getService(k, sid);
  const name = f.get("FriendlyName");
  if (name !== undefined && (name === "" || name.length > 30)) throw invalidParam("FriendlyName");
  const flag = (n: string, cur: number) => Number(bool(f, n) ?? cur === 1);
  k.sql.exec(
    `UPDATE twilio_verify_services SET friendly_name = ?, code_length = ?, lookup_enabled = ?, skip_sms_to_landlines = ?, dtmf_input_required = ?,
     do_not_share_warning_enabled = ?, custom_code_enabled = ?, date_updated = ? WHERE sid = ?`,
    name ?? r.friendly_name, codeLength(f) ?? r.code_length, flag("LookupEnabled", r.lookup_enabled), flag("SkipSmsToLandlines", r.skip_sms_to_landlines),
    flag("DtmfInputRequired", r.dtmf_input_required), flag("DoNotShareWarningEnabled", r.do_not_share_warning_enabled), flag("CustomCodeEnabled", r.custom_code_enabled),
    k.clock.now(), sid,
  );
  return getService(k, sid);
}

export function deleteService(k: Kernel, sid: string): void {
  getService(k, sid);
  k.sql.exec("DELETE FROM twilio_verifications WHERE service_sid = ?", sid);
  k.sql.exec("DELETE FROM twilio_verify_services WHERE sid = ?", sid);
}

export function serviceJson(k: Kernel, r: ServiceRow) {
  const url = `${base(k)}/Services/${r.sid}`;
  return {
    sid: r.sid,
    account_sid: k.world().credentials.twilio!.accountSid,
    friendly_name: r.friendly_name,
    code_length: r.code_length,
    lookup_enabled: r.lookup_enabled === 1,
    psd2_enabled: false,
    skip_sms_to_landlines: r.skip_sms_to_landlines === 1,
    dtmf_input_required: r.dtmf_input_required === 1,
    tts_name: null,
    do_not_share_warning_enabled: r.do_not_share_warning_enabled === 1,
    custom_code_enabled: r.custom_code_enabled === 1,
    push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
    totp: { issuer: r.friendly_name, time_step: 30, code_length: 6, skew: 1 },
    default_template_sid: null,
    whatsapp: { msg_service_sid: null, from: null },
    passkeys: { relying_party: { id: null, name: null, origins: [] }, authenticator_attachment: null, discoverable_credentials: null, user_verification: null },
    verify_event_subscription_enabled: false,
    date_created: iso(r.date_created),
    date_updated: iso(r.date_updated),
    url,
    links: {
      verification_checks: `${url}/VerificationCheck`,
      verifications: `${url}/Verifications`,
      rate_limits: `${url}/RateLimits`,
      messaging_configurations: `${url}/MessagingConfigurations`,
      entities: `${url}/Entities`,
      webhooks: `${url}/Webhooks`,
      access_tokens: `${url}/AccessTokens`,
    },
  };
}

export function listServices(k: Kernel, q: Form) {
  return metaPage(k, "/verify/v2/Services", "services", q, (limit, offset) =>
    k.sql.exec<ServiceRow>("SELECT * FROM twilio_verify_services ORDER BY seq LIMIT ? OFFSET ?", limit, offset).toArray(), (r) => serviceJson(k, r));
}

function pendingFor(k: Kernel, serviceSid: string, to: string): VerificationRow | null {
  return (
    k.sql
      .exec<VerificationRow>("SELECT * FROM twilio_verifications WHERE service_sid = ? AND \"to\" = ? AND status = 'pending' AND expires_at > ? ORDER BY date_created DESC LIMIT 1", serviceSid, to, k.clock.now())
      .toArray()[0] ?? null
  );
}

function newCode(k: Kernel, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += Math.floor(k.rng.float("twilio.otp") * 10);
  return s;
}

/** Starts (or re-sends) a verification; the code lands in the run's inbox. */
export function createVerification(k: Kernel, serviceSid: string, f: Form): VerificationRow {
  const svc = getService(k, serviceSid);
  const rawTo = f.get("To");
  if (!rawTo) throw invalidParam("To", "");
  const channel = f.get("Channel");
  if (!channel || !CHANNELS.has(channel)) throw invalidParam("Channel");
  let to: string;
  if (channel === "email") {
    if (!EMAIL.test(rawTo.trim())) throw invalidParam("To", rawTo);
    to = rawTo.trim().toLowerCase();
  } else {
    const n = e164(rawTo);
    if (!n || n === "+15005550001") throw invalidParam("To", rawTo);
    if (n === "+15005550009" && channel !== "call") throw new TwilioError(400, 60205, "SMS is not supported by landline phone number");
    to = n;
  }
  const custom = f.get("CustomCode");
  if (custom !== undefined && svc.custom_code_enabled !== 1) throw new TwilioError(400, 60220, "Custom code not allowed for this service.");
  if (custom !== undefined && !/^\d{4,10}$/.test(custom)) throw invalidParam("CustomCode");
  const now = k.clock.now();
  let row = pendingFor(k, serviceSid, to);
  const attempt = { time: iso(now), channel, attempt_sid: k.ids.make("VL", 32, "hex") };
  if (row) {
    const attempts = JSON.parse(row.send_attempts) as unknown[];
    if (attempts.length >= MAX_SENDS) throw new TwilioError(429, 60203, "Max send attempts reached");
    attempts.push(attempt);
    k.sql.exec("UPDATE twilio_verifications SET send_attempts = ?, channel = ?, date_updated = ? WHERE sid = ?", JSON.stringify(attempts), channel, now, row.sid);
    row = { ...row, send_attempts: JSON.stringify(attempts), channel, date_updated: now };
  } else {
    const sid = k.ids.make("VE", 32, "hex");
    const code = custom ?? newCode(k, svc.code_length);
    k.sql.exec(
      `INSERT INTO twilio_verifications (sid, service_sid, "to", channel, status, code, send_attempts, check_attempts, expires_at, date_created, date_updated)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, 0, ?, ?, ?)`,
      sid, serviceSid, to, channel, code, JSON.stringify([attempt]), now + TTL_MS, now, now,
    );
    k.jobs.schedule("twilio", EXPIRE_JOB, now + TTL_MS, {}, sid);
    row = getVerificationRow(k, serviceSid, sid);
  }
  const name = f.get("CustomFriendlyName") || svc.friendly_name;
  const text = `Your ${name} verification code is: ${row.code}`;
  if (channel === "email") k.inbox.add({ kind: "twilio", channel: "email", to, from: "verify@twilio.molar.localhost", subject: `Your ${name} verification code`, text, code: row.code, ref: row.sid });
  // The inbox knows email and sms; a voice call's code is filed with the sms channel, saying so.
  else k.inbox.add({ kind: "twilio", channel: "sms", to, from: "Verify", text: channel === "call" ? `(voice call) ${text}` : text, code: row.code, ref: row.sid });
  return row;
}

function getVerificationRow(k: Kernel, serviceSid: string, sid: string): VerificationRow {
  const r = k.sql.exec<VerificationRow>("SELECT * FROM twilio_verifications WHERE sid = ? AND service_sid = ?", sid, serviceSid).toArray()[0];
  if (!r || r.status === "expired" || (r.status === "pending" && r.expires_at <= k.clock.now())) throw notFound(`/Services/${serviceSid}/Verifications/${sid}`);
  return r;
}

/** Fetch by VE sid, or by the `To` it was sent to (Twilio accepts either in the path). */
export function getVerification(k: Kernel, serviceSid: string, sidOrTo: string): VerificationRow {
  getService(k, serviceSid);
  if (sidOrTo.startsWith("VE")) return getVerificationRow(k, serviceSid, sidOrTo);
  const to = e164(sidOrTo) ?? sidOrTo.toLowerCase();
  const r = pendingFor(k, serviceSid, to);
  if (!r) throw notFound(`/Services/${serviceSid}/Verifications/${sidOrTo}`);
  return r;
}

export function updateVerification(k: Kernel, serviceSid: string, sidOrTo: string, f: Form): VerificationRow {
  const r = getVerification(k, serviceSid, sidOrTo);
  const status = f.get("Status");
  if (status !== "canceled" && status !== "approved") throw invalidParam("Status");
  if (r.status !== "pending") throw notFound(`/Services/${serviceSid}/Verifications/${sidOrTo}`);
  k.sql.exec("UPDATE twilio_verifications SET status = ?, date_updated = ? WHERE sid = ?", status, k.clock.now(), r.sid);
  k.jobs.cancel(EXPIRE_JOB, r.sid);
  return { ...r, status, date_updated: k.clock.now() };
}

/** A check: the right code approves; a wrong one keeps it pending; the sixth try after five wrong ones is 60202. */
export function checkVerification(k: Kernel, serviceSid: string, f: Form): { row: VerificationRow; valid: boolean } | { refused: TwilioError } {
  getService(k, serviceSid);
  const code = f.get("Code");
  const to = f.get("To");
  const vsid = f.get("VerificationSid");
  if (!to && !vsid) throw invalidParam("To", "");
  if (!code) throw invalidParam("Code", "");
  const missing = () => notFound(`/Services/${serviceSid}/VerificationCheck`);
  let r: VerificationRow | null;
  if (vsid) {
    r = k.sql.exec<VerificationRow>("SELECT * FROM twilio_verifications WHERE sid = ? AND service_sid = ?", vsid, serviceSid).toArray()[0] ?? null;
  } else {
    r = pendingFor(k, serviceSid, e164(to) ?? to!.trim().toLowerCase());
  }
  if (!r || r.status !== "pending" || r.expires_at <= k.clock.now()) throw missing();
  // The preset expires it for good: answered, not thrown, so the expiry and the rule's use commit.
  if (k.chaos.take("twilio", "verify_expired")) {
    k.sql.exec("UPDATE twilio_verifications SET status = 'expired', date_updated = ? WHERE sid = ?", k.clock.now(), r.sid);
    k.jobs.cancel(EXPIRE_JOB, r.sid);
    return { refused: missing() };
  }
  if (r.check_attempts >= MAX_CHECKS) throw new TwilioError(429, 60202, "Max check attempts reached");
  const now = k.clock.now();
  const valid = code === r.code;
  const status = valid ? "approved" : "pending";
  k.sql.exec("UPDATE twilio_verifications SET check_attempts = check_attempts + 1, status = ?, date_updated = ? WHERE sid = ?", status, now, r.sid);
  if (valid) k.jobs.cancel(EXPIRE_JOB, r.sid);
  return { row: { ...r, status, check_attempts: r.check_attempts + 1, date_updated: now }, valid };
}

export function expireVerification(k: Kernel, sid: string): string | void {
  const n = k.sql.exec("UPDATE twilio_verifications SET status = 'expired', date_updated = ? WHERE sid = ? AND status = 'pending'", k.clock.now(), sid).rowsWritten;
  return n ? `verification ${sid} expired` : undefined;
}

export function verificationJson(k: Kernel, r: VerificationRow) {
  return {
    sid: r.sid,
    service_sid: r.service_sid,
    account_sid: k.world().credentials.twilio!.accountSid,
    to: r.to,
    channel: r.channel,
    status: r.status,
    valid: r.status === "approved",
    lookup: r.channel === "email" ? {} : { carrier: null },
    amount: null,
    payee: null,
    send_code_attempts: JSON.parse(r.send_attempts),
    date_created: iso(r.date_created),
    date_updated: iso(r.date_updated),
    sna: null,
    url: `${base(k)}/Services/${r.service_sid}/Verifications/${r.sid}`,
  };
}

export function checkJson(k: Kernel, r: VerificationRow, valid: boolean) {
  return {
    sid: r.sid,
    service_sid: r.service_sid,
    account_sid: k.world().credentials.twilio!.accountSid,
    to: r.to,
    channel: r.channel,
    status: r.status,
    valid,
    amount: null,
    payee: null,
    date_created: iso(r.date_created),
    date_updated: iso(r.date_updated),
    sna_attempts_error_codes: [],
  };
}
