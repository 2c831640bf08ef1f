// A small app that knows nothing of Molar Clones: it builds each vendor's SDK with its key alone,
// as production code does. Run through `molar-clones proxy` (see README), its calls reach the run
// named by those keys, and its Stripe webhook handler verifies the clone's events.
import http from "node:http";
import Stripe from "stripe";
import twilio from "twilio";
import { Resend } from "resend";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);
const sms = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
const resend = new Resend(process.env.RESEND_API_KEY);
// Credentials and region from AWS_* env; virtual-hosted addressing, as against AWS itself.
const s3 = new S3Client({});
const events = [];

const read = (req) => new Promise((resolve) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => resolve(body));
});

const routes = {
  "POST /webhooks/stripe": async (req, body) => {
    // The handler every Stripe integration has: a bad signature is a 400.
    const event = stripe.webhooks.constructEvent(body, req.headers["stripe-signature"], process.env.STRIPE_WEBHOOK_SECRET);
    events.push(event.type);
    return { received: true };
  },
  "GET /events": async () => ({ events }),
  "POST /checkout": async () => {
    const customer = await stripe.customers.create({ email: "buyer@acme.test" });
    const pi = await stripe.paymentIntents.create({ amount: 1999, currency: "usd", customer: customer.id, payment_method: "pm_card_visa", confirm: true });
    return { customer: customer.id, paymentIntent: pi.id, status: pi.status };
  },
  "POST /notify": async () => {
    const message = await sms.messages.create({ from: "+15005550006", to: "+15551230000", body: "Your order shipped" });
    const { data, error } = await resend.emails.send({ from: "shop@acme.test", to: "buyer@acme.test", subject: "Receipt", text: "Thanks" });
    if (error) throw new Error(error.message);
    return { sms: message.sid, email: data.id };
  },
  "POST /invoice": async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "acme-invoices" }));
    await s3.send(new PutObjectCommand({ Bucket: "acme-invoices", Key: "2026/inv-1.txt", Body: "invoice #1", ContentType: "text/plain" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "acme-invoices", Key: "2026/inv-1.txt" }));
    return { body: await got.Body.transformToString() };
  },
  "POST /live": async () => {
    // Stripe's file uploads host is not served by the clones: the proxy must refuse it.
    try {
      const r = await fetch("https://uploads.stripe.com/v1/files");
      return { reached: true, status: r.status };
    } catch (e) {
      return { reached: false, error: String(e.cause?.message ?? e.message) };
    }
  },
};

const server = http.createServer(async (req, res) => {
  const route = routes[`${req.method} ${req.url}`];
  if (!route) return void res.writeHead(404).end();
  try {
    const out = await route(req, await read(req));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
  } catch (e) {
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: e.message }));
  }
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => console.log(`listening ${server.address().port}`));
