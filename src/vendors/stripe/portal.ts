// Customer portal sessions and the page their URL opens: the customer's subscriptions (cancel at
// period end, or renew again) and saved cards, and a link back to return_url.
import { err } from "./errors.ts";
import { updateSubscription } from "./subscriptions.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { Params, type Ctx } from "./wire.ts";

export const portalPath = (worldId: string, id: string) => `/p/session/${worldId}/${id}`;

export function createPortalSession(s: Ctx, p: Params): Obj {
  p.allow("customer", "return_url", "configuration", "flow_data", "locale", "on_behalf_of", "customer_account");
  const customer = s.store.get("customer", p.reqStr("customer"), "customer");
  const id = newId(s.k, "billing_portal.session");
  const session: Obj = {
    id,
    object: "billing_portal.session",
    configuration: "bpc_default",
    created: unixNow(s.k),
    customer: customer.id,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: p.str("locale") ?? null,
    on_behalf_of: null,
    return_url: p.str("return_url") ?? null,
    url: `${s.k.world().urls.stripe}${portalPath(s.k.world().worldId, id)}`,
  };
  s.store.insert("billing_portal.session", session);
  return session;
}

function portalSession(s: Ctx, id: string): Obj {
  const ps = s.store.find("billing_portal.session", id);
  if (!ps) throw err.missing("billing portal session", id);
  return ps;
}

/** The portal's buttons: `cancel` (at period end) or `renew` one of the customer's subscriptions. */
export function portalAction(s: Ctx, id: string, form: Params): void {
  const ps = portalSession(s, id);
  form.allow("subscription", "action");
  const sub = s.store.get("subscription", form.reqStr("subscription"), "subscription");
  if (sub.customer !== ps.customer) throw err.missing("subscription", sub.id, "subscription");
  const action = form.oneOf("action", ["cancel", "renew"], { required: true });
  updateSubscription(s, sub.id, new Params({ cancel_at_period_end: action === "cancel" ? "true" : "false" }));
}

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (unix: unknown) => new Date(Number(unix) * 1000).toISOString().slice(0, 10);

export function portalPage(s: Ctx, id: string): string {
  const ps = s.store.find("billing_portal.session", id);
  if (!ps) return `<!doctype html><html><head><meta charset="utf-8"><title>Not found</title></head><body><p>This portal session does not exist.</p></body></html>`;
  const customer = s.store.get("customer", String(ps.customer), "customer", true);
  const base = portalPath(s.k.world().worldId, id);
  const subs = s.store.list("subscription", { limit: 100 }, { customer: customer.id }).data.filter((x) => x.status !== "canceled" && x.status !== "incomplete_expired");
  const subRows = subs.map((sub) => {
    const item = (sub.items as { data: Obj[] }).data[0];
    const price = item.price as Obj;
    const product = s.store.find("product", String(price.product));
    const ends = sub.cancel_at_period_end;
    return `<li data-subscription="${esc(sub.id)}">${esc(product?.name ?? price.id)}: ${(Number(price.unit_amount) / 100).toFixed(2)} ${esc(String(price.currency).toUpperCase())} / ${esc((price.recurring as Obj).interval)}, ${esc(sub.status)}${ends ? `, cancels on ${day(item.current_period_end)}` : `, renews on ${day(item.current_period_end)}`}
<form method="post" action="${base}/update"><input type="hidden" name="subscription" value="${esc(sub.id)}"><input type="hidden" name="action" value="${ends ? "renew" : "cancel"}"><button type="submit">${ends ? "Renew plan" : "Cancel plan"}</button></form></li>`;
  }).join("");
  const cards = s.store.list("payment_method", { limit: 100 }, { customer: customer.id }).data.map((pm) => `<li>${esc((pm.card as Obj).brand)} •••• ${esc((pm.card as Obj).last4)}</li>`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Billing</title></head><body>
<h1>Billing for ${esc(customer.email ?? customer.id)}</h1>
<h2>Subscriptions</h2><ul id="subscriptions">${subRows || "<li>None</li>"}</ul>
<h2>Payment methods</h2><ul id="payment-methods">${cards || "<li>None</li>"}</ul>
${ps.return_url ? `<p><a id="return" href="${esc(ps.return_url)}">Return</a></p>` : ""}
</body></html>`;
}
