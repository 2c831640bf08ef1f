// Inbound SMS, simulated through the run's admin API: the message is stored as Twilio would,
// posted (signed) to the number's SmsUrl, and a TwiML <Message> reply becomes an outbound message.
import { Hono } from "hono";
import type { Kernel } from "../../kernel/types.ts";
import { ApiError, jsonObject } from "../../lib/http-error.ts";
import { TwilioError } from "./errors.ts";
import { e164, isHttpUrl, twilioSignature } from "./format.ts";
import { createMessage, mediaOf, messageJson, type MessageRow } from "./messages.ts";
import { numberByPhone } from "./numbers.ts";
import { findMessagingService } from "./messaging.ts";

interface Reply {
  to: string | null;
  from: string | null;
  body: string;
  media: string[];
  statusCallback: string | null;
}

const unescape = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) =>
    e === "lt" ? "<" : e === "gt" ? ">" : e === "amp" ? "&" : e === "quot" ? '"' : e === "apos" ? "'" : String.fromCodePoint(e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );

function attr(attrs: string, name: string): string | null {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i").exec(attrs);
  return m ? unescape(m[2] ?? m[3]) : null;
}

/** The <Message> verbs of a TwiML document, in order (`<Body>`/`<Media>` nouns or plain text). */
export function twimlMessages(xml: string): Reply[] {
  const out: Reply[] = [];
  const re = /<Message\b([^>]*?)(?:\/>|>([\s\S]*?)<\/Message\s*>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const inner = m[2] ?? "";
    const bodies = [...inner.matchAll(/<Body\b[^>]*>([\s\S]*?)<\/Body\s*>/g)].map((b) => unescape(b[1]));
    const media = [...inner.matchAll(/<Media\b[^>]*>([\s\S]*?)<\/Media\s*>/g)].map((b) => unescape(b[1].trim()));
    const text = bodies.length || media.length ? bodies.join("") : unescape(inner.replace(/<[^>]+>/g, ""));
    out.push({ to: attr(m[1], "to"), from: attr(m[1], "from"), body: text.trim(), media, statusCallback: attr(m[1], "statusCallback") });
  }
  return out;
}

/** The parameters Twilio posts to an SmsUrl for an incoming message. */
function inboundParams(k: Kernel, m: MessageRow): URLSearchParams {
  const p = new URLSearchParams();
  const media = mediaOf(m);
  const pairs: [string, string][] = [
    ["ToCountry", "US"], ["ToState", ""], ["SmsMessageSid", m.sid], ["NumMedia", String(media.length)], ["ToCity", ""], ["FromZip", ""],
    ["SmsSid", m.sid], ["FromState", ""], ["SmsStatus", "received"], ["FromCity", ""], ["Body", m.body], ["FromCountry", "US"], ["To", m.to],
    ["ToZip", ""], ["NumSegments", String(m.num_segments)], ["MessageSid", m.sid], ["AccountSid", k.world().credentials.twilio!.accountSid],
    ["From", m.from], ["ApiVersion", "2010-04-01"],
  ];
  if (m.messaging_service_sid) pairs.push(["MessagingServiceSid", m.messaging_service_sid]);
  media.forEach((x, i) => pairs.push([`MediaUrl${i}`, x.url], [`MediaContentType${i}`, x.content_type]));
  for (const [a, b] of pairs) p.append(a, b);
  return p;
}

/** `POST {adminUrl}/twilio/inbound` `{ from, to, body, mediaUrl? }`: a text arrives at one of the run's numbers. */
export function twilioAdmin(k: Kernel): Hono {
  const app = new Hono();
  app.post("/inbound", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    const from = typeof b.from === "string" ? e164(b.from) : null;
    const to = typeof b.to === "string" ? e164(b.to) : null;
    if (!from) throw new ApiError(422, "invalid_field", "`from` must be a phone number (E.164).");
    if (!to) throw new ApiError(422, "invalid_field", "`to` must be a phone number (E.164).");
    if (b.body !== undefined && typeof b.body !== "string") throw new ApiError(422, "invalid_field", "`body` must be a string.");
    const media = b.mediaUrl === undefined ? [] : Array.isArray(b.mediaUrl) ? b.mediaUrl : [b.mediaUrl];
    if (!media.every((u): u is string => typeof u === "string" && isHttpUrl(u))) throw new ApiError(422, "invalid_field", "`mediaUrl` must be http(s) URLs.");
    const number = k.tx(() => numberByPhone(k, to));
    if (!number) throw new ApiError(404, "unknown_number", `${to} is not a phone number of this run; create it with IncomingPhoneNumbers first.`);
    // A number in a Messaging Service's pool reports to the service's inbound webhook, unless
    // the service defers to the number's own.
    const svc = number.messaging_service_sid ? k.tx(() => findMessagingService(k, number.messaging_service_sid!)) : null;
    const viaService = !!svc && svc.use_inbound_webhook_on_number === 0 && !!svc.inbound_request_url;
    const hook = viaService ? { url: svc!.inbound_request_url!, method: svc!.inbound_method } : { url: number.sms_url, method: number.sms_method };
    const inbound = k.tx(() =>
      createMessage(k, { to, from, body: (b.body as string | undefined) ?? "", media, messagingServiceSid: svc?.sid ?? null, statusCallback: null, sendAt: null, direction: "inbound" }),
    );
    const result: { message: unknown; webhook: { url: string; method: string; status: number | null; error: string | null } | null; replies: unknown[] } = {
      message: messageJson(k, inbound),
      webhook: null,
      replies: [],
    };
    if (!hook.url) return c.json(result);
    const params = inboundParams(k, inbound);
    const token = k.world().credentials.twilio!.authToken;
    const get = hook.method === "GET";
    const url = get ? `${hook.url}${hook.url.includes("?") ? "&" : "?"}${params}` : hook.url;
    const headers: Record<string, string> = {
      "x-twilio-signature": twilioSignature(token, url, get ? new URLSearchParams() : params),
      "user-agent": "TwilioProxy/1.1",
      accept: "*/*",
    };
    if (!get) headers["content-type"] = "application/x-www-form-urlencoded";
    let twiml = "";
    try {
      const res = await k.fetchApp(url, { method: hook.method, headers, body: get ? undefined : params.toString() });
      twiml = await res.text();
      result.webhook = { url: hook.url, method: hook.method, status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
      if (!res.ok) twiml = "";
    } catch (e) {
      result.webhook = { url: hook.url, method: hook.method, status: null, error: e instanceof Error ? e.message : String(e) };
    }
    for (const r of twimlMessages(twiml)) {
      try {
        const sent = k.tx(() =>
          createMessage(k, {
            to: (r.to && e164(r.to)) || from, from: (r.from && e164(r.from)) || to, body: r.body, media: r.media, messagingServiceSid: svc?.sid ?? null,
            statusCallback: r.statusCallback && isHttpUrl(r.statusCallback) ? r.statusCallback : null, sendAt: null, direction: "outbound-reply",
          }),
        );
        result.replies.push(messageJson(k, sent));
      } catch (e) {
        if (!(e instanceof TwilioError)) throw e;
        result.replies.push({ error: { code: e.code, message: e.message } });
      }
    }
    return c.json(result);
  });
  return app;
}
