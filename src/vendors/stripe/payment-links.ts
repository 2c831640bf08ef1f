// Payment links: a shareable URL (buy.stripe.com at Stripe; /b/<world>/<link> on the clone) that
// opens a fresh Checkout Session for its line items each time it is visited, so a purchase
// through it ends as any Checkout does (checkout.session.completed, with `payment_link` set).
import { StripeError, err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, pageOf, Params, type Ctx } from "./wire.ts";
import { createSession } from "./checkout.ts";

export const linkPath = (worldId: string, id: string) => `/b/${worldId}/${id}`;

const notBuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `Payment links with ${what} are not implemented by the Stripe clone yet.` });

type LinkInternal = { items: { price: string; quantity: number }[] };

function afterCompletion(p: Params, prev: Record<string, unknown> | null): Record<string, unknown> {
  const a = p.obj("after_completion");
  if (!a) return prev ?? { hosted_confirmation: { custom_message: null }, type: "hosted_confirmation" };
  a.allow("type", "redirect", "hosted_confirmation");
  const type = a.oneOf("type", ["hosted_confirmation", "redirect"], { required: true })!;
  if (type === "redirect") {
    const r = a.obj("redirect", { required: true })!;
    r.allow("url");
    const url = r.reqStr("url");
    if (!/^https?:\/\//.test(url)) throw err.invalid("Not a valid URL", { param: "after_completion[redirect][url]" });
    return { redirect: { url }, type };
  }
  const h = a.obj("hosted_confirmation");
  h?.allow("custom_message");
  return { hosted_confirmation: { custom_message: h?.str("custom_message") ?? null }, type };
}

export function createPaymentLink(s: Ctx, p: Params): Obj {
  p.allow("line_items", "after_completion", "metadata", "allow_promotion_codes", "subscription_data", "billing_address_collection", "customer_creation",
    "phone_number_collection", "submit_type", "inactive_message", "currency", "payment_method_types");
  const list = p.list("line_items");
  if (!list?.length) throw err.missingParam("line_items");
  if (list.length > 20) throw err.invalid("You can only pass up to 20 line items.", { param: "line_items" });
  const items = list.map((l, i) => {
    l.allow("price", "quantity", "adjustable_quantity");
    if (l.has("adjustable_quantity")) throw notBuilt("`adjustable_quantity`");
    const price = s.store.get("price", l.reqStr("price"), `line_items[${i}][price]`);
    if (!price.active) throw err.invalid(`The price ${price.id} is not active.`, { param: `line_items[${i}][price]` });
    return { price, quantity: l.int("quantity", { required: true, min: 1 })! };
  });
  const currencies = new Set(items.map((i) => i.price.currency));
  if (currencies.size > 1) throw err.invalid("All prices on a payment link must have the same currency.", { param: "line_items" });
  const recurring = items.some((i) => i.price.type === "recurring");
  const sd = p.obj("subscription_data");
  if (sd && !recurring) throw err.invalid("subscription_data can only be used with recurring prices.", { param: "subscription_data" });
  sd?.allow("trial_period_days", "metadata", "description");
  const id = newId(s.k, "payment_link");
  const link: Obj = {
    id,
    object: "payment_link",
    active: true,
    after_completion: afterCompletion(p, null),
    allow_promotion_codes: p.bool("allow_promotion_codes") ?? false,
    application: null,
    application_fee_amount: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, liability: null },
    billing_address_collection: p.oneOf("billing_address_collection", ["auto", "required"]) ?? "auto",
    consent_collection: null,
    currency: items[0].price.currency,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer_creation: recurring ? "always" : (p.oneOf("customer_creation", ["always", "if_required"]) ?? "if_required"),
    inactive_message: p.str("inactive_message") ?? null,
    invoice_creation: recurring ? null : { enabled: false, invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null } },
    livemode: false,
    metadata: metadata(p),
    name_collection: null,
    on_behalf_of: null,
    optional_items: null,
    payment_intent_data: null,
    payment_method_collection: "always",
    payment_method_types: null,
    phone_number_collection: { enabled: false },
    restrictions: null,
    shipping_address_collection: null,
    shipping_options: [],
    submit_type: recurring ? "auto" : (p.oneOf("submit_type", ["auto", "book", "donate", "pay", "subscribe"]) ?? "auto"),
    subscription_data: recurring
      ? { description: sd?.str("description") ?? null, invoice_settings: { issuer: { type: "self" } }, metadata: sd ? metadata(sd) : {}, trial_period_days: sd?.int("trial_period_days", { min: 1, max: 730 }) ?? null, trial_settings: null }
      : null,
    tax_id_collection: { enabled: false, required: "never" },
    transfer_data: null,
    url: `${s.k.world().urls.stripe}${linkPath(s.k.world().worldId, id)}`,
  };
  const internal: LinkInternal = { items: items.map((i) => ({ price: String(i.price.id), quantity: i.quantity })) };
  s.store.insert("payment_link", link, internal);
  emit(s, "payment_link.created", link);
  return link;
}

export function updatePaymentLink(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "after_completion", "metadata", "inactive_message", "allow_promotion_codes", "line_items");
  if (p.has("line_items")) throw notBuilt("changed `line_items`");
  const before = s.store.get("payment_link", id);
  const next: Obj = {
    ...before,
    active: p.bool("active") ?? before.active,
    after_completion: afterCompletion(p, before.after_completion as Record<string, unknown>),
    metadata: metadata(p, before.metadata as Record<string, string>),
    inactive_message: p.has("inactive_message") ? (p.str("inactive_message") ?? null) : before.inactive_message,
    allow_promotion_codes: p.bool("allow_promotion_codes") ?? before.allow_promotion_codes,
  };
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return before;
  s.store.save("payment_link", next);
  emit(s, "payment_link.updated", next, prev);
  return next;
}

export function listPaymentLinks(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active");
  return listJson("/v1/payment_links", s.store.list("payment_link", listQuery(p), { active: p.bool("active") }));
}

export function linkLineItems(s: Ctx, id: string, p: Params) {
  p.allow(...LIST_PARAMS);
  const link = s.store.get("payment_link", id);
  const { items } = s.store.internal<LinkInternal>("payment_link", id);
  const data = items.map((i, n) => {
    const price = s.store.get("price", i.price);
    const amount = Number(price.unit_amount ?? 0) * i.quantity;
    return {
      id: `li_${String(link.id).slice(6, 20)}${String(n).padStart(4, "0")}`, object: "item", amount_discount: 0, amount_subtotal: amount, amount_tax: 0, amount_total: amount,
      currency: price.currency, description: null, price, quantity: i.quantity,
    };
  });
  return pageOf(data, listQuery(p), `/v1/payment_links/${id}/line_items`, "line item");
}

/** A visit to the link: a new Checkout Session for its items, or null when the link is inactive. */
export function sessionForVisit(s: Ctx, id: string): Obj | null {
  const link = s.store.get("payment_link", id);
  if (!link.active) return null;
  const { items } = s.store.internal<LinkInternal>("payment_link", id);
  const recurring = items.some((i) => s.store.get("price", i.price).type === "recurring");
  const after = link.after_completion as { type: string; redirect?: { url: string } };
  const sd = link.subscription_data as { trial_period_days: number | null; metadata: Record<string, string>; description: string | null } | null;
  const raw: Record<string, unknown> = {
    mode: recurring ? "subscription" : "payment",
    line_items: items.map((i) => ({ price: i.price, quantity: String(i.quantity) })),
    ...(after.type === "redirect" ? { success_url: after.redirect!.url } : {}),
    ...(link.allow_promotion_codes ? { allow_promotion_codes: "true" } : {}),
    ...(sd?.trial_period_days ? { subscription_data: { trial_period_days: String(sd.trial_period_days) } } : {}),
  };
  const session = createSession(s, new Params(raw));
  const next = { ...session, payment_link: link.id };
  s.store.save("checkout.session", next);
  return next;
}

export function inactivePage(s: Ctx, id: string): string {
  const link = s.store.get("payment_link", id);
  const msg = String(link.inactive_message ?? "This link is no longer active.").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link inactive</title></head><body><main><h1>Link inactive</h1><p id="status">${msg}</p></main></body></html>`;
}
