// The Twilio clone through the official `twilio` SDK; callbacks and inbound webhooks checked by
// the SDK's own `twilio.validateRequest`. Tests advance the run clock; they never sleep.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import http from "node:http";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import twilio from "twilio";
import { twilioCloneHttpClient, rewriteTwilioUrl } from "../../src/sdk/twilio.ts";
import { admin, advance, receiver, spawn, type Received, type Run } from "./helpers.ts";

type Client = ReturnType<typeof twilio>;
const clientOf = (run: Run): Client =>
  twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });

const params = (body: string) => Object.fromEntries(new URLSearchParams(body));
/** A callback or webhook as the app would check it: `twilio.validateRequest` must accept it. */
function signedBy(run: Run, url: string, g: Received): Record<string, string> {
  const p = params(g.body);
  expect(twilio.validateRequest(run.clones.twilio.authToken, g.headers["x-twilio-signature"] as string, url, p)).toBe(true);
  expect(twilio.validateRequest("wrong-token", g.headers["x-twilio-signature"] as string, url, p)).toBe(false);
  return p;
}

/** The SDK's RestException, caught. */
async function failure(p: Promise<unknown>): Promise<{ status: number; code: number; message: string; moreInfo: string }> {
  try {
    await p;
  } catch (e) {
    return e as { status: number; code: number; message: string; moreInfo: string };
  }
  throw new Error("expected the call to fail");
}

const inbox = async (run: Run, q = "") => (await admin(run, "GET", `/inbox${q}`)).json.data as { channel: string; to: string; from: string; text: string; code: string | null; subject?: string }[];

/** An app's SMS webhook on loopback that answers with TwiML. */
async function twimlApp(twiml: string) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(200, { "content-type": "text/xml" }).end(twiml);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as import("node:net").AddressInfo;
  return { url: `http://127.0.0.1:${port}/sms`, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("twilio clone: Messages through the twilio SDK", () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hooks = await receiver();
  });
  afterAll(() => hooks.close());

  it("sends from the magic sender: queued → sending → sent → delivered on the run clock, with signed status callbacks", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const m = await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "Hello from the clone", statusCallback: hooks.url });
    expect(m).toMatchObject({
      accountSid: run.clones.twilio.accountSid,
      apiVersion: "2010-04-01",
      body: "Hello from the clone",
      direction: "outbound-api",
      from: "+15005550006",
      to: "+15551234567",
      status: "queued",
      numSegments: "1",
      numMedia: "0",
      errorCode: null,
      errorMessage: null,
      messagingServiceSid: null,
      priceUnit: "USD",
      dateSent: null,
    });
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m.uri).toBe(`/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages/${m.sid}.json`);
    expect(m.dateCreated).toBeInstanceOf(Date);

    const status = async () => (await client.messages(m.sid).fetch()).status;
    await advance(run, "1s");
    expect(await status()).toBe("sending");
    await advance(run, "1s");
    expect(await status()).toBe("sent");
    await advance(run, "3s");
    const done = await client.messages(m.sid).fetch();
    expect(done.status).toBe("delivered");
    expect(done.dateSent).toBeInstanceOf(Date);

    const sentAt = done.dateSent!;
    expect((await client.messages.list({ dateSent: sentAt })).map((x) => x.sid)).toEqual([m.sid]);
    expect(await client.messages.list({ dateSentBefore: new Date(sentAt.getTime() - 86_400_000) })).toEqual([]);
    expect((await client.messages.list({ dateSentAfter: new Date(sentAt.getTime() - 1000) })).map((x) => x.sid)).toEqual([m.sid]);

    const mine = hooks.got.filter((g) => params(g.body).MessageSid === m.sid);
    expect(mine.map((g) => params(g.body).MessageStatus)).toEqual(["sent", "delivered"]);
    for (const g of mine) {
      expect(g.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      expect(g.headers["user-agent"]).toBe("TwilioProxy/1.1");
      expect(signedBy(run, hooks.url, g)).toMatchObject({ SmsSid: m.sid, SmsStatus: expect.any(String), To: "+15551234567", From: "+15005550006", AccountSid: run.clones.twilio.accountSid, ApiVersion: "2010-04-01" });
    }
    expect(await inbox(run, "?channel=sms")).toEqual([expect.objectContaining({ channel: "sms", to: "+15551234567", from: "+15005550006", text: "Hello from the clone" })]);
  });

  it("answers each magic invalid number with Twilio's error code, message and status", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const cases: [{ from: string; to: string }, number, RegExp][] = [
      [{ from: "+15005550006", to: "+15005550001" }, 21211, /'To' number \+15005550001 is not a valid phone number/],
      [{ from: "+15005550006", to: "+15005550002" }, 21612, /not currently reachable/],
      [{ from: "+15005550006", to: "+15005550003" }, 21408, /Permission to send an SMS has not been enabled/],
      [{ from: "+15005550006", to: "+15005550004" }, 21610, /unsubscribed recipient/],
      [{ from: "+15005550006", to: "+15005550009" }, 21614, /not a valid mobile number/],
      [{ from: "+15005550001", to: "+15551234567" }, 21212, /'From' number \+15005550001 is not a valid phone number/],
      [{ from: "+15005550007", to: "+15551234567" }, 21606, /not a valid message-capable Twilio phone number/],
      [{ from: "+15005550008", to: "+15551234567" }, 21611, /maximum number of queued messages/],
      [{ from: "+15559990000", to: "+15551234567" }, 21606, /not a valid message-capable Twilio phone number/],
      [{ from: "+15005550006", to: "not a number" }, 21211, /is not a valid phone number/],
    ];
    for (const [p, code, message] of cases) {
      const e = await failure(client.messages.create({ ...p, body: "x" }));
      expect({ status: e.status, code: e.code }, `${p.from} → ${p.to}`).toEqual({ status: 400, code });
      expect(e.message).toMatch(message);
      expect(e.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
    }
    // The SDK refuses a create without To itself; on the wire, Twilio's 21604 and 21602.
    const basic = Buffer.from(`${run.clones.twilio.accountSid}:${run.clones.twilio.authToken}`).toString("base64");
    const post = async (body: string) =>
      (await fetch(`${run.clones.twilio.url}/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json`, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
        body,
      })).json();
    expect(await post("From=%2B15005550006&Body=x")).toEqual({ code: 21604, message: "A 'To' phone number is required.", more_info: "https://www.twilio.com/docs/errors/21604", status: 400 });
    expect(await post("From=%2B15005550006&To=%2B15551234567")).toMatchObject({ code: 21602, status: 400 });
    expect(await post("To=%2B15551234567&Body=x")).toMatchObject({ code: 21603, status: 400 });
    // Nothing was stored for refused sends.
    expect(await client.messages.list()).toEqual([]);
  });

  it("ends undelivered with error 30003 under the status_callback_fail preset, and retries a failing callback on the run clock", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    await admin(run, "POST", "/chaos/presets/twilio/status_callback_fail", { times: 1 });
    const cb = await receiver();
    try {
      cb.state.fail = true;
      const m = await client.messages.create({ from: "+15005550006", to: "+15551230001", body: "x", statusCallback: cb.url });
      await advance(run, "5s");
      const done = await client.messages(m.sid).fetch();
      expect(done).toMatchObject({ status: "undelivered", errorCode: 30003, errorMessage: "Unreachable destination handset" });
      expect(cb.got).toHaveLength(0);
      cb.state.fail = false;
      await advance(run, "10s");
      const statuses = cb.got.map((g) => signedBy(run, cb.url, g));
      expect(statuses.map((p) => p.MessageStatus).sort()).toEqual(["sent", "undelivered"]);
      expect(statuses.find((p) => p.MessageStatus === "undelivered")).toMatchObject({ ErrorCode: "30003", MessageSid: m.sid });
      const deliveries = (await admin(run, "GET", "/webhooks/deliveries")).json.data as { kind: string; status: string; attempts: number }[];
      expect(deliveries.filter((d) => d.kind === "twilio").map((d) => [d.status, d.attempts])).toEqual([["succeeded", 2], ["succeeded", 2]]);
      // The next message is delivered again: the preset fired once.
      const next = await client.messages.create({ from: "+15005550006", to: "+15551230001", body: "y" });
      await advance(run, "5s");
      expect((await client.messages(next.sid).fetch()).status).toBe("delivered");
    } finally {
      await cb.close();
    }
  });

  it("queues a sender at one segment a second; a message that would outwait its ValidityPeriod fails with 30036, its callback signed", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const cb = await receiver();
    try {
      await client.incomingPhoneNumbers.create({ phoneNumber: "+15017122661" });
      expect(await failure(client.messages.create({ from: "+15017122661", to: "+15551234567", body: "x", validityPeriod: 36_001 }))).toMatchObject({ status: 400, code: 21624 });
      await admin(run, "POST", "/clock/freeze");
      const sent: Awaited<ReturnType<Client["messages"]["create"]>>[] = [];
      for (let i = 0; i < 4; i++) sent.push(await client.messages.create({ from: "+15017122661", to: "+15551234567", body: `n${i}`, validityPeriod: 2, statusCallback: cb.url }));
      // The magic test sender is not held back: it stands for test credentials.
      const magic = await Promise.all([0, 1, 2].map((i) => client.messages.create({ from: "+15005550006", to: "+15551234567", body: `m${i}` })));
      expect(sent.map((m) => m.status)).toEqual(["queued", "queued", "queued", "queued"]);
      const statuses = async (ms: { sid: string }[]) => Promise.all(ms.map(async (m) => (await client.messages(m.sid).fetch()).status));

      // One segment a second: the first leaves the queue after 1 s, the second after 2 s (its whole
      // validity period, not more); the third and fourth would wait 3 s and fail when 2 s are up.
      await advance(run, "2s");
      expect(await statuses(sent)).toEqual(["sent", "sending", "failed", "failed"]);
      expect(await statuses(magic)).toEqual(["sent", "sent", "sent"]);
      await advance(run, "5s");
      const done = await Promise.all(sent.map((m) => client.messages(m.sid).fetch()));
      expect(done.map((m) => [m.status, m.errorCode, m.errorMessage])).toEqual([
        ["delivered", null, null],
        ["delivered", null, null],
        ["failed", 30036, "Validity Period Expired"],
        ["failed", 30036, "Validity Period Expired"],
      ]);
      expect(done[1].dateSent!.getTime() - done[0].dateSent!.getTime()).toBe(1000);
      expect(done[2].dateSent).toBeNull();

      const hooks = cb.got.map((g) => signedBy(run, cb.url, g));
      expect(hooks.filter((p) => p.MessageStatus === "failed").map((p) => [p.MessageSid, p.ErrorCode]).sort()).toEqual(
        [[sent[2].sid, "30036"], [sent[3].sid, "30036"]].sort(),
      );
      expect(hooks.filter((p) => p.MessageSid === sent[1].sid).map((p) => p.MessageStatus)).toEqual(["sent", "delivered"]);
      // An expired message never reached the handset.
      expect((await inbox(run, "?channel=sms")).filter((e) => e.from === "+15017122661").map((e) => e.text)).toEqual(["n0", "n1"]);
    } finally {
      await cb.close();
    }
  });

  it("pages through 120 messages with each(): every one exactly once, newest first, by next_page_uri", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const sids: string[] = [];
    for (let i = 0; i < 120; i++) sids.push((await client.messages.create({ from: "+15005550006", to: `+1555123${String(i % 3).padStart(4, "0")}`, body: `n${i}` })).sid);
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) =>
      client.messages.each({ pageSize: 50, done: (err?: Error) => (err ? reject(err) : resolve()) }, (m) => {
        seen.push(m.sid);
      }),
    );
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect(seen).toEqual([...sids].reverse());

    const all = await client.messages.list({ pageSize: 7 });
    expect(all.map((m) => m.sid)).toEqual([...sids].reverse());
    const filtered = await client.messages.list({ to: "+15551230001", pageSize: 10 });
    expect(filtered).toHaveLength(40);
    expect(filtered.every((m) => m.to === "+15551230001")).toBe(true);
    expect(await client.messages.list({ limit: 5 })).toHaveLength(5);

    // The wire: 2010-style paging with a relative next_page_uri that carries the filters.
    const basic = Buffer.from(`${run.clones.twilio.accountSid}:${run.clones.twilio.authToken}`).toString("base64");
    const raw = await fetch(`${run.clones.twilio.url}/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json?To=%2B15551230002&PageSize=25`, { headers: { authorization: `Basic ${basic}` } });
    const page = (await raw.json()) as Record<string, unknown>;
    expect(page).toMatchObject({ page: 0, page_size: 25, start: 0, end: 24, previous_page_uri: null });
    expect(page.next_page_uri).toMatch(new RegExp(`^/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages\\.json\\?To=%2B15551230002&PageSize=25&Page=1&PageToken=PA\\d+$`));
    const p2 = (await (await fetch(`${run.clones.twilio.url}${page.next_page_uri}`, { headers: { authorization: `Basic ${basic}` } })).json()) as { messages: unknown[]; next_page_uri: string | null; start: number; end: number };
    expect(p2).toMatchObject({ start: 25, end: 39, next_page_uri: null });
    expect(p2.messages).toHaveLength(15);
  });

  it("schedules, cancels, redacts and deletes as Twilio allows; media become sub-resources", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const pn = await client.incomingPhoneNumbers.create({ phoneNumber: "+15017122661" });
    const mg = (await client.messaging.v1.services.create({ friendlyName: "Reminders" })).sid;
    await client.messaging.v1.services(mg).phoneNumbers.create({ phoneNumberSid: pn.sid });
    const now = Date.parse((await admin(run, "GET", "/clock")).json.now);
    const sched = await client.messages.create({ messagingServiceSid: mg, to: "+15551234567", body: "later", scheduleType: "fixed", sendAt: new Date(now + 3_600_000) });
    expect(sched).toMatchObject({ status: "scheduled", from: "+15017122661", messagingServiceSid: mg });
    const tooSoon = await failure(client.messages.create({ messagingServiceSid: mg, to: "+15551234567", body: "x", scheduleType: "fixed", sendAt: new Date(now + 60_000) }));
    expect(tooSoon).toMatchObject({ status: 400, code: 35114 });
    const canceled = await client.messages(sched.sid).update({ status: "canceled" });
    expect(canceled.status).toBe("canceled");
    await advance(run, "2h");
    expect((await client.messages(sched.sid).fetch()).status).toBe("canceled");
    expect(await inbox(run)).toEqual([]);
    const later = await client.messages.create({ messagingServiceSid: mg, to: "+15551234567", body: "on time", scheduleType: "fixed", sendAt: new Date(now + 4 * 3_600_000) });
    await advance(run, "1h59m");
    expect((await client.messages(later.sid).fetch()).status).toBe("scheduled");
    await advance(run, "1m5s");
    expect((await client.messages(later.sid).fetch()).status).toBe("delivered");
    expect((await inbox(run)).map((e) => e.text)).toEqual(["on time"]);

    const m = await client.messages.create({ from: "+15017122661", to: "+15551234567", body: "secret", mediaUrl: ["https://demo.twilio.com/owl.png"] });
    expect(m.numMedia).toBe("1");
    const media = await client.messages(m.sid).media.list();
    expect(media).toHaveLength(1);
    expect(media[0]).toMatchObject({ contentType: "image/png", parentSid: m.sid });
    expect(media[0].sid).toMatch(/^ME[0-9a-f]{32}$/);
    expect(await client.messages(m.sid).media(media[0].sid).fetch()).toMatchObject({ sid: media[0].sid });

    expect(await failure(client.messages(m.sid).remove())).toMatchObject({ code: 20009 });
    await advance(run, "5s");
    expect((await client.messages(m.sid).update({ body: "" })).body).toBe("");
    expect(await client.messages(m.sid).remove()).toBe(true);
    expect(await failure(client.messages(m.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
  });
});

describe("twilio clone: phone numbers and inbound SMS", () => {
  it("configures a number through IncomingPhoneNumbers; an inbound SMS reaches the app signed, and its TwiML reply is sent", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const app = await twimlApp('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks &amp; welcome!</Message></Response>');
    try {
      const pn = await client.incomingPhoneNumbers.create({ phoneNumber: "+15017122661", smsUrl: "http://127.0.0.1:1/unused" });
      expect(pn).toMatchObject({ phoneNumber: "+15017122661", friendlyName: "(501) 712-2661", smsMethod: "POST", smsUrl: "http://127.0.0.1:1/unused" });
      expect(pn.sid).toMatch(/^PN[0-9a-f]{32}$/);
      const updated = await client.incomingPhoneNumbers(pn.sid).update({ smsUrl: app.url, statusCallback: "http://127.0.0.1:1/status" });
      expect(updated).toMatchObject({ smsUrl: app.url, statusCallback: "http://127.0.0.1:1/status" });
      expect((await client.incomingPhoneNumbers.list({ phoneNumber: "+15017122661" })).map((n) => n.sid)).toEqual([pn.sid]);
      const bought = await client.incomingPhoneNumbers.create({ areaCode: "415" });
      expect(bought.phoneNumber).toMatch(/^\+1415555\d{4}$/);
      expect(await failure(client.incomingPhoneNumbers.create({ phoneNumber: "+15005550000" }))).toMatchObject({ status: 400, code: 21422 });

      const r = await admin(run, "POST", "/twilio/inbound", { from: "+15551234567", to: "+15017122661", body: "JOIN" });
      expect(r.status).toBe(200);
      expect(r.json.webhook).toMatchObject({ url: app.url, status: 200 });
      expect(app.got).toHaveLength(1);
      const p = signedBy(run, app.url, app.got[0]);
      expect(p).toMatchObject({ From: "+15551234567", To: "+15017122661", Body: "JOIN", SmsStatus: "received", NumMedia: "0", AccountSid: run.clones.twilio.accountSid });
      expect(p.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);

      expect(r.json.replies).toHaveLength(1);
      const reply = await client.messages(r.json.replies[0].sid).fetch();
      expect(reply).toMatchObject({ direction: "outbound-reply", from: "+15017122661", to: "+15551234567", body: "Thanks & welcome!", status: "queued" });
      const inbound = await client.messages(p.MessageSid).fetch();
      expect(inbound).toMatchObject({ direction: "inbound", status: "received", body: "JOIN" });
      await advance(run, "5s");
      expect((await client.messages(reply.sid).fetch()).status).toBe("delivered");
      expect(await inbox(run, "?to=%2B15551234567")).toEqual([expect.objectContaining({ channel: "sms", from: "+15017122661", text: "Thanks & welcome!" })]);

      // The run's own number is a valid sender.
      expect((await client.messages.create({ from: "+15017122661", to: "+15551234568", body: "hi" })).status).toBe("queued");
      const unknown = await admin(run, "POST", "/twilio/inbound", { from: "+15551234567", to: "+15550000000", body: "x" });
      expect(unknown.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});

describe("twilio clone: Messaging Services", () => {
  it("sends from the service's pool with a sticky sender, reports to the service's status callback, and takes the pool's inbound SMS", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const hooks = await receiver();
    const app = await twimlApp("<Response><Message><Body>Got it</Body></Message></Response>");
    try {
      const svc = await client.messaging.v1.services.create({ friendlyName: "Alerts", statusCallback: hooks.url, inboundRequestUrl: app.url });
      expect(svc).toMatchObject({ friendlyName: "Alerts", stickySender: true, useInboundWebhookOnNumber: false, url: `${run.clones.twilio.url}/messaging/v1/Services/${svc.sid}` });
      expect(svc.sid).toMatch(/^MG[0-9a-f]{32}$/);
      expect(await failure(client.messages.create({ messagingServiceSid: svc.sid, to: "+15551234567", body: "x" }))).toMatchObject({ status: 400, code: 21703 });
      expect(await failure(client.messages.create({ messagingServiceSid: `MG${"0".repeat(32)}`, to: "+15551234567", body: "x" }))).toMatchObject({ status: 400, code: 21701 });

      const a = await client.incomingPhoneNumbers.create({ phoneNumber: "+15017120001" });
      const b = await client.incomingPhoneNumbers.create({ phoneNumber: "+15017120002" });
      await client.messaging.v1.services(svc.sid).phoneNumbers.create({ phoneNumberSid: a.sid });
      await client.messaging.v1.services(svc.sid).phoneNumbers.create({ phoneNumberSid: b.sid });
      expect((await client.messaging.v1.services(svc.sid).phoneNumbers.list()).map((p) => p.phoneNumber)).toEqual(["+15017120001", "+15017120002"]);

      // The recipient keeps the sender that last wrote to them.
      const first = await client.messages.create({ messagingServiceSid: svc.sid, from: "+15017120002", to: "+15557770000", body: "one" });
      expect(first).toMatchObject({ status: "accepted", from: "+15017120002", messagingServiceSid: svc.sid });
      const second = await client.messages.create({ messagingServiceSid: svc.sid, to: "+15557770000", body: "two" });
      expect(second.from).toBe("+15017120002");
      expect((await client.messages.create({ messagingServiceSid: svc.sid, to: "+15557770001", body: "three" })).from).toBe("+15017120001");
      await advance(run, "5s");
      const statuses = hooks.got.map((g) => signedBy(run, hooks.url, g)).filter((p) => p.MessageSid === second.sid);
      expect(statuses.map((p) => [p.MessageStatus, p.MessagingServiceSid])).toEqual([["sent", svc.sid], ["delivered", svc.sid]]);

      const r = await admin(run, "POST", "/twilio/inbound", { from: "+15557770000", to: "+15017120001", body: "STOP?" });
      expect(r.json.webhook).toMatchObject({ url: app.url, status: 200 });
      expect(signedBy(run, app.url, app.got[0])).toMatchObject({ MessagingServiceSid: svc.sid, Body: "STOP?" });
      expect(r.json.replies[0]).toMatchObject({ from: "+15017120001", to: "+15557770000", body: "Got it", messaging_service_sid: svc.sid });

      const upd = await client.messaging.v1.services(svc.sid).update({ friendlyName: "Alerts 2", stickySender: false });
      expect(upd).toMatchObject({ friendlyName: "Alerts 2", stickySender: false });
      expect(await client.messaging.v1.services(svc.sid).phoneNumbers(a.sid).remove()).toBe(true);
      expect((await client.messaging.v1.services.list()).map((s) => s.sid)).toEqual([svc.sid]);
      expect(await client.messaging.v1.services(svc.sid).remove()).toBe(true);
      expect(await failure(client.messaging.v1.services(svc.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    } finally {
      await hooks.close();
      await app.close();
    }
  });
});

describe("twilio clone: Verify v2", () => {
  it("runs a phone OTP sign-up: sent, code from the inbox, wrong code pending, right code approves, expiry 20404, five wrong checks 60202", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const svc = await client.verify.v2.services.create({ friendlyName: "Acme" });
    expect(svc).toMatchObject({ friendlyName: "Acme", codeLength: 6, accountSid: run.clones.twilio.accountSid });
    expect(svc.sid).toMatch(/^VA[0-9a-f]{32}$/);
    expect(svc.url).toBe(`${run.clones.twilio.url}/verify/v2/Services/${svc.sid}`);
    const phone = "+15557654321";
    const v = await client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    expect(v).toMatchObject({ to: phone, channel: "sms", status: "pending", valid: false, serviceSid: svc.sid });
    expect(v.sid).toMatch(/^VE[0-9a-f]{32}$/);
    expect(v.sendCodeAttempts).toHaveLength(1);
    const [sms] = await inbox(run, `?to=${encodeURIComponent(phone)}`);
    expect(sms).toMatchObject({ channel: "sms", text: `Your Acme verification code is: ${sms.code}` });
    expect(sms.code).toMatch(/^\d{6}$/);

    const wrongCode = sms.code === "000000" ? "111111" : "000000";
    const wrong = await client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: wrongCode });
    expect(wrong).toMatchObject({ status: "pending", valid: false, sid: v.sid });
    const right = await client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: sms.code! });
    expect(right).toMatchObject({ status: "approved", valid: true, sid: v.sid, to: phone, channel: "sms" });
    expect((await client.verify.v2.services(svc.sid).verifications(v.sid).fetch()).status).toBe("approved");

    // A new code, 11 minutes later, has expired.
    await client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    const code2 = (await inbox(run, `?to=${encodeURIComponent(phone)}`)).at(-1)!.code!;
    const fired = (await advance(run, "11m")).json.fired as { kind: string; what: string }[];
    expect(fired.some((f) => f.kind === "twilio" && /expired/.test(f.what))).toBe(true);
    const expired = await failure(client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: code2 }));
    expect(expired).toMatchObject({ status: 404, code: 20404 });

    // Five wrong checks lock it.
    const v3 = await client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
    const code3 = (await inbox(run, `?to=${encodeURIComponent(phone)}`)).at(-1)!.code!;
    const bad = code3 === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) {
      expect((await client.verify.v2.services(svc.sid).verificationChecks.create({ verificationSid: v3.sid, code: bad })).status).toBe("pending");
    }
    const locked = await failure(client.verify.v2.services(svc.sid).verificationChecks.create({ verificationSid: v3.sid, code: code3 }));
    expect(locked).toMatchObject({ status: 429, code: 60202, message: "Max check attempts reached" });
  });

  it("resends the same code up to five times (then 60203), cancels, sends email codes to the inbox, and updates the service", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const svc = await client.verify.v2.services.create({ friendlyName: "Shop", codeLength: 4 });
    const phone = "+15551112222";
    let first = "";
    for (let i = 0; i < 5; i++) {
      const v = await client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" });
      expect(v.sendCodeAttempts).toHaveLength(i + 1);
      first ||= v.sid;
      expect(v.sid).toBe(first);
    }
    const codes = (await inbox(run, `?to=${encodeURIComponent(phone)}`)).map((e) => e.code);
    expect(new Set(codes).size).toBe(1);
    expect(codes[0]).toMatch(/^\d{4}$/);
    expect(await failure(client.verify.v2.services(svc.sid).verifications.create({ to: phone, channel: "sms" }))).toMatchObject({ status: 429, code: 60203 });
    const canceled = await client.verify.v2.services(svc.sid).verifications(first).update({ status: "canceled" });
    expect(canceled.status).toBe("canceled");
    expect(await failure(client.verify.v2.services(svc.sid).verificationChecks.create({ to: phone, code: codes[0]! }))).toMatchObject({ status: 404, code: 20404 });

    const updated = await client.verify.v2.services(svc.sid).update({ codeLength: 8, friendlyName: "Shop Two" });
    expect(updated).toMatchObject({ codeLength: 8, friendlyName: "Shop Two" });
    expect((await client.verify.v2.services(svc.sid).fetch()).codeLength).toBe(8);
    const ev = await client.verify.v2.services(svc.sid).verifications.create({ to: "Ada@Example.com", channel: "email" });
    expect(ev).toMatchObject({ channel: "email", to: "ada@example.com", status: "pending" });
    const [mail] = await inbox(run, "?channel=email");
    expect(mail).toMatchObject({ channel: "email", to: "ada@example.com", subject: "Your Shop Two verification code" });
    expect(mail.code).toMatch(/^\d{8}$/);
    const approved = await client.verify.v2.services(svc.sid).verificationChecks.create({ to: "ada@example.com", code: mail.code! });
    expect(approved.status).toBe("approved");

    expect(await failure(client.verify.v2.services(svc.sid).verifications.create({ to: "+15551112222", channel: "pigeon" as never }))).toMatchObject({ status: 400, code: 60200 });
    expect(await failure(client.verify.v2.services(`VA${"0".repeat(32)}`).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await client.verify.v2.services.list()).map((s) => s.sid)).toEqual([svc.sid]);
  });

  it("honours the verify_expired preset", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const svc = await client.verify.v2.services.create({ friendlyName: "Acme" });
    await client.verify.v2.services(svc.sid).verifications.create({ to: "+15553334444", channel: "sms" });
    const [sms] = await inbox(run);
    await admin(run, "POST", "/chaos/presets/twilio/verify_expired", { times: 1 });
    expect(await failure(client.verify.v2.services(svc.sid).verificationChecks.create({ to: "+15553334444", code: sms.code! }))).toMatchObject({ code: 20404 });
    // It is expired for good; a new verification works again.
    expect(await failure(client.verify.v2.services(svc.sid).verificationChecks.create({ to: "+15553334444", code: sms.code! }))).toMatchObject({ code: 20404 });
    await client.verify.v2.services(svc.sid).verifications.create({ to: "+15553334444", channel: "sms" });
    const code = (await inbox(run)).at(-1)!.code!;
    expect((await client.verify.v2.services(svc.sid).verificationChecks.create({ to: "+15553334444", code })).status).toBe("approved");
  });
});

describe("twilio clone: Lookup, reaching the clone, errors", () => {
  it("validates numbers with Lookup v2", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    const ok = await client.lookups.v2.phoneNumbers("+14155552671").fetch();
    expect(ok).toMatchObject({ valid: true, countryCode: "US", callingCountryCode: "1", phoneNumber: "+14155552671", nationalFormat: "(415) 555-2671", validationErrors: null });
    const short = await client.lookups.v2.phoneNumbers("+1415555").fetch();
    expect(short).toMatchObject({ valid: false, validationErrors: ["TOO_SHORT"] });
    const local = await client.lookups.v2.phoneNumbers("020 7946 0018").fetch({ countryCode: "GB" });
    expect(local).toMatchObject({ valid: true, phoneNumber: "+442079460018", countryCode: "GB" });
  });

  it("is reached through client.api.baseUrl / client.verify.baseUrl too, and rewrites every twilio.com host", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken);
    client.api.baseUrl = run.clones.twilio.url;
    client.verify.baseUrl = `${run.clones.twilio.url}/verify`;
    expect((await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "hi" })).status).toBe("queued");
    expect((await client.verify.v2.services.create({ friendlyName: "X" })).sid).toMatch(/^VA/);
    expect(rewriteTwilioUrl("http://127.0.0.1:9/", "https://api.twilio.com/2010-04-01/Accounts.json?x=1")).toBe("http://127.0.0.1:9/2010-04-01/Accounts.json?x=1");
    expect(rewriteTwilioUrl("http://127.0.0.1:9", "https://verify.sydney.au1.twilio.com/v2/Services")).toBe("http://127.0.0.1:9/verify/v2/Services");
    expect(rewriteTwilioUrl("http://127.0.0.1:9", "https://example.com/x")).toBe("https://example.com/x");
    // An edge/region moves between twilio.com hosts only: the helper still lands on the clone.
    const edged = twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url), edge: "sydney" });
    expect((await edged.messages.list()).length).toBe(1);
  });

  it("snapshots and restores its world: messages, numbers, services and verifications", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const client = clientOf(run);
    await client.incomingPhoneNumbers.create({ phoneNumber: "+15017122661" });
    const kept = await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "kept" });
    const svc = await client.verify.v2.services.create({ friendlyName: "Acme" });
    const snap = await admin(run, "POST", "/snapshots", { label: "before" });
    expect(snap.json.counts.twilio).toMatchObject({ message: 1, incoming_phone_number: 1, verify_service: 1 });
    await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "dropped" });
    await client.verify.v2.services(svc.sid).verifications.create({ to: "+15551234567", channel: "sms" });
    expect((await admin(run, "POST", `/snapshots/${snap.json.id}/restore`)).status).toBe(200);
    expect((await client.messages.list()).map((m) => m.sid)).toEqual([kept.sid]);
    expect(await failure(client.verify.v2.services(svc.sid).verifications("+15551234567").fetch())).toMatchObject({ code: 20404 });
    expect((await client.incomingPhoneNumbers.list()).map((n) => n.phoneNumber)).toEqual(["+15017122661"]);
  });

  it("answers Twilio's error shapes: 20003 for bad credentials, 501 for what is not built, 404 elsewhere", async () => {
    const run = await spawn({ kinds: ["twilio"] });
    const bad = twilio(run.clones.twilio.accountSid, "wrong", { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });
    expect(await failure(bad.messages.list())).toMatchObject({ status: 401, code: 20003, moreInfo: "https://www.twilio.com/docs/errors/20003" });
    const stranger = twilio(`AC${"0".repeat(32)}`, run.clones.twilio.authToken, { httpClient: twilioCloneHttpClient(run.clones.twilio.url) });
    expect(await failure(stranger.messages.create({ from: "+15005550006", to: "+15551234567", body: "x" }))).toMatchObject({ status: 401, code: 20003 });
    expect(await failure(bad.verify.v2.services.list())).toMatchObject({ status: 401, code: 20003 });
    // On the wire: no credentials, or credentials that are not Basic, are Twilio's 20003 in full.
    const messagesUrl = `${run.clones.twilio.url}/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json`;
    for (const headers of [{}, { authorization: "Bearer abc" }, { authorization: "Basic %%%" }, { authorization: `Basic ${Buffer.from(run.clones.twilio.accountSid).toString("base64")}` }] as Record<string, string>[]) {
      const r = await fetch(messagesUrl, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(await r.json()).toEqual({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 });
    }
    const client = clientOf(run);
    const calls = await failure(client.calls.create({ from: "+15005550006", to: "+15551234567", url: "http://127.0.0.1:1/twiml" }));
    expect(calls).toMatchObject({ status: 501, code: 20501 });
    // Verify's Service Rate Limits are not built: Twilio's 501 shape, not a fake success.
    const va = await client.verify.v2.services.create({ friendlyName: "Limits" });
    expect(await failure(client.verify.v2.services(va.sid).rateLimits.create({ uniqueName: "end_user_ip" }))).toMatchObject({ status: 501, code: 20501 });
    const basic = Buffer.from(`${run.clones.twilio.accountSid}:${run.clones.twilio.authToken}`).toString("base64");
    const other = await fetch(`${run.clones.twilio.url}/2010-04-01/Accounts/AC${"0".repeat(32)}/Messages.json`, { headers: { authorization: `Basic ${basic}` } });
    expect(other.status).toBe(401);
    const nowhere = await fetch(`${run.clones.twilio.url}/nope`, { headers: { authorization: `Basic ${basic}` } });
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ code: 20404, status: 404, more_info: "https://www.twilio.com/docs/errors/20404" });
    // The request log filters by a full Twilio path (longer than workerd's 50-byte GLOB limit).
    const logged = await admin(run, "GET", `/logs?path=${encodeURIComponent(`/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json`)}`);
    expect(logged.status).toBe(200);
    const lines = logged.text.trim().split("\n").map((l) => JSON.parse(l) as { path: string; status: number });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.path === `/2010-04-01/Accounts/${run.clones.twilio.accountSid}/Messages.json`)).toBe(true);
    const globbed = await admin(run, "GET", `/logs?path=${encodeURIComponent(`/2010-04-01/Accounts/${run.clones.twilio.accountSid}/*.json`)}&status=401`);
    expect(globbed.text.trim().split("\n").map((l) => (JSON.parse(l) as { status: number }).status)).toEqual(expect.arrayContaining([401]));
    await admin(run, "POST", "/chaos/presets/twilio/invalid_number", { times: 1 });
    expect(await failure(client.messages.create({ from: "+15005550006", to: "+15551234567", body: "x" }))).toMatchObject({ status: 400, code: 21211 });
  });
});

const SPECS = path.resolve(import.meta.dirname, "../../../shared/specs/twilio");
const haveSpecs = existsSync(path.join(SPECS, "twilio_api_v2010.json")) && existsSync(path.join(SPECS, "twilio_verify_v2.json")) && existsSync(path.join(SPECS, "twilio_messaging_v1.json"));
if (!haveSpecs) console.warn(`twilio.test: spec checks skipped, ${SPECS} is absent (the vendors' specs live in ../shared beside the repo)`);

/** OpenAPI 3.0's `nullable` as JSON Schema: a null is allowed wherever the document says so. */
function jsonSchemaOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchemaOf);
  if (typeof node !== "object" || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, jsonSchemaOf(v)]));
  if (nullable !== true) return out;
  if (typeof out.type === "string" && !out.enum && !out.$ref) return { ...out, type: [out.type, "null"] };
  return { anyOf: [out, { type: "null" }] };
}

describe.skipIf(!haveSpecs)("twilio clone against Twilio's OpenAPI documents", () => {
  it("answers bodies that validate against the response schemas of every served endpoint", async () => {
    // Twilio's documents are OpenAPI 3.0 (`nullable`); their formats (phone-number, rfc-2822 dates,
    // relative "uri"s) are Twilio's own, so only shapes and types are checked.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const docs = { api: JSON.parse(readFileSync(path.join(SPECS, "twilio_api_v2010.json"), "utf8")), verify: JSON.parse(readFileSync(path.join(SPECS, "twilio_verify_v2.json"), "utf8")), messaging: JSON.parse(readFileSync(path.join(SPECS, "twilio_messaging_v1.json"), "utf8")) };
    for (const [id, d] of Object.entries(docs)) ajv.addSchema({ $id: id, ...(jsonSchemaOf({ components: d.components, paths: d.paths }) as object) });
    const schemaOf = (doc: keyof typeof docs, p: string, method: string, status: string) =>
      `${doc}#/paths/${p.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/responses/${status}/content/application~1json/schema`;
    const validate = (ref: string, value: unknown) => {
      const v = ajv.getSchema(ref);
      if (!v) throw new Error(`no schema at ${ref}`);
      return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    };

    const run = await spawn({ kinds: ["twilio"] });
    const ac = run.clones.twilio.accountSid;
    const basic = Buffer.from(`${ac}:${run.clones.twilio.authToken}`).toString("base64");
    const wire = async (method: string, p: string, body?: Record<string, string>) => {
      const r = await fetch(`${run.clones.twilio.url}${p}`, {
        method,
        headers: { authorization: `Basic ${basic}`, ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
        body: body ? new URLSearchParams(body).toString() : undefined,
      });
      return { status: r.status, json: r.status === 204 ? null : ((await r.json()) as Record<string, any>) };
    };
    const A = "/2010-04-01/Accounts/{AccountSid}";
    const checks: [string, unknown][] = [];
    const check = async (doc: keyof typeof docs, specPath: string, method: string, status: string, p: string, body?: Record<string, string>) => {
      const r = await wire(method.toUpperCase(), p, body);
      expect(String(r.status), `${method} ${p}`).toBe(status);
      checks.push([schemaOf(doc, specPath, method, status), r.json]);
      return r.json!;
    };
    const pn = await check("api", `${A}/IncomingPhoneNumbers.json`, "post", "201", `/2010-04-01/Accounts/${ac}/IncomingPhoneNumbers.json`, { PhoneNumber: "+15017122661" });
    await check("api", `${A}/IncomingPhoneNumbers.json`, "get", "200", `/2010-04-01/Accounts/${ac}/IncomingPhoneNumbers.json`);
    await check("api", `${A}/IncomingPhoneNumbers/{Sid}.json`, "get", "200", `/2010-04-01/Accounts/${ac}/IncomingPhoneNumbers/${pn.sid}.json`);
    await check("api", `${A}/IncomingPhoneNumbers/{Sid}.json`, "post", "200", `/2010-04-01/Accounts/${ac}/IncomingPhoneNumbers/${pn.sid}.json`, { SmsUrl: "http://127.0.0.1:1/sms" });
    await check("api", `${A}/IncomingPhoneNumbers/Local.json`, "post", "201", `/2010-04-01/Accounts/${ac}/IncomingPhoneNumbers/Local.json`, { AreaCode: "415" });
    const m = await check("api", `${A}/Messages.json`, "post", "201", `/2010-04-01/Accounts/${ac}/Messages.json`, { From: "+15017122661", To: "+15551234567", Body: "hi", MediaUrl: "https://demo.twilio.com/owl.png" });
    await check("api", `${A}/Messages.json`, "get", "200", `/2010-04-01/Accounts/${ac}/Messages.json?PageSize=1`);
    await advance(run, "5s");
    await check("api", `${A}/Messages/{Sid}.json`, "get", "200", `/2010-04-01/Accounts/${ac}/Messages/${m.sid}.json`);
    await check("api", `${A}/Messages/{Sid}.json`, "post", "200", `/2010-04-01/Accounts/${ac}/Messages/${m.sid}.json`, { Body: "" });
    const media = await check("api", `${A}/Messages/{MessageSid}/Media.json`, "get", "200", `/2010-04-01/Accounts/${ac}/Messages/${m.sid}/Media.json`);
    await check("api", `${A}/Messages/{MessageSid}/Media/{Sid}.json`, "get", "200", `/2010-04-01/Accounts/${ac}/Messages/${m.sid}/Media/${media.media_list[0].sid}.json`);
    const svc = await check("verify", "/v2/Services", "post", "201", "/verify/v2/Services", { FriendlyName: "Acme" });
    await check("verify", "/v2/Services", "get", "200", "/verify/v2/Services");
    await check("verify", "/v2/Services/{Sid}", "get", "200", `/verify/v2/Services/${svc.sid}`);
    await check("verify", "/v2/Services/{Sid}", "post", "200", `/verify/v2/Services/${svc.sid}`, { CodeLength: "5" });
    const v = await check("verify", "/v2/Services/{ServiceSid}/Verifications", "post", "201", `/verify/v2/Services/${svc.sid}/Verifications`, { To: "+15551234567", Channel: "sms" });
    await check("verify", "/v2/Services/{ServiceSid}/Verifications/{Sid}", "get", "200", `/verify/v2/Services/${svc.sid}/Verifications/${v.sid}`);
    await check("verify", "/v2/Services/{ServiceSid}/VerificationCheck", "post", "200", `/verify/v2/Services/${svc.sid}/VerificationCheck`, { To: "+15551234567", Code: "00000" });
    await check("verify", "/v2/Services/{ServiceSid}/Verifications/{Sid}", "post", "200", `/verify/v2/Services/${svc.sid}/Verifications/${v.sid}`, { Status: "canceled" });
    const ms = await check("messaging", "/v1/Services", "post", "201", "/messaging/v1/Services", { FriendlyName: "Pool", StatusCallback: "http://127.0.0.1:1/s" });
    await check("messaging", "/v1/Services", "get", "200", "/messaging/v1/Services");
    await check("messaging", "/v1/Services/{Sid}", "get", "200", `/messaging/v1/Services/${ms.sid}`);
    await check("messaging", "/v1/Services/{Sid}", "post", "200", `/messaging/v1/Services/${ms.sid}`, { StickySender: "false" });
    await check("messaging", "/v1/Services/{ServiceSid}/PhoneNumbers", "post", "201", `/messaging/v1/Services/${ms.sid}/PhoneNumbers`, { PhoneNumberSid: pn.sid });
    await check("messaging", "/v1/Services/{ServiceSid}/PhoneNumbers", "get", "200", `/messaging/v1/Services/${ms.sid}/PhoneNumbers`);
    await check("messaging", "/v1/Services/{ServiceSid}/PhoneNumbers/{Sid}", "get", "200", `/messaging/v1/Services/${ms.sid}/PhoneNumbers/${pn.sid}`);
    expect(checks.flatMap(([ref, body]) => validate(ref, body).map((e) => `${ref.replace(/\/content.*$/, "")} ${e}`))).toEqual([]);
  });
});
