// The pages a browser opens without a key, as on checkout.stripe.com and billing.stripe.com: the
// hosted checkout page and the customer portal. Their paths name the world; the session id in
// them is the capability (see `authenticate` in index.ts). Errors render on the page.
import type { Context } from "hono";
import type { Kernel, VendorBindings, VendorHono } from "../../kernel/types.ts";
import { StripeError } from "./errors.ts";
import * as checkout from "./checkout.ts";
import * as portal from "./portal.ts";
import * as links from "./payment-links.ts";
import { Params, ctxOf, decodeForm } from "./wire.ts";

type C = Context<{ Bindings: VendorBindings }>;
const decoder = new TextDecoder();
const id = (c: C) => c.req.param("id") as string;
const form = (c: C) => new Params(decodeForm(decoder.decode(c.env.body)));

export function hostedPages(app: VendorHono, k: Kernel): void {
  const html = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
  app.get("/c/pay/:world/:id", (c) => html(checkout.hostedPage(ctxOf(k), id(c))));
  app.post("/c/pay/:world/:id/complete", (c) => {
    const s = ctxOf(k, k.ids.make("req_", 14));
    const fields = form(c);
    // A nested transaction: a refused card (attach, subscription) rolls back what the attempt
    // wrote, a declined payment keeps its failed charge; either way the page shows the error.
    let outcome: ReturnType<typeof checkout.completeSession> | StripeError;
    try {
      outcome = k.tx(() => {
        try {
          return checkout.completeSession(s, id(c), fields);
        } catch (e) {
          if (e instanceof StripeError && e.committed) return e;
          throw e;
        }
      });
    } catch (e) {
      if (!(e instanceof StripeError) || e.statusCode !== 402) throw e;
      outcome = e;
    }
    if (outcome instanceof StripeError) return html(checkout.hostedPage(s, id(c), String(outcome.body.message)), 402);
    return outcome.success_url ? Response.redirect(checkout.fillSessionId(String(outcome.success_url), outcome.id), 303) : html(`<!doctype html><p id="status">Payment complete.</p>`);
  });
  app.get("/c/pay/:world/:id/cancel", (c) => {
    const cs = ctxOf(k).store.get("checkout.session", id(c), "session");
    return cs.cancel_url ? Response.redirect(String(cs.cancel_url), 303) : html(checkout.hostedPage(ctxOf(k), id(c)));
  });

  // A payment link opens a new Checkout Session at each visit, as buy.stripe.com does.
  app.get("/b/:world/:id", (c) => {
    const s = ctxOf(k, k.ids.make("req_", 14));
    const session = links.sessionForVisit(s, id(c));
    return session ? Response.redirect(String(session.url), 303) : html(links.inactivePage(s, id(c)), 410);
  });
  app.get("/p/session/:world/:id", (c) => html(portal.portalPage(ctxOf(k), id(c))));
  app.post("/p/session/:world/:id/update", (c) => {
    portal.portalAction(ctxOf(k, k.ids.make("req_", 14)), id(c), form(c));
    return Response.redirect(`${k.world().urls.stripe}${portal.portalPath(k.world().worldId, id(c))}`, 303);
  });
}
