// Customer portal sessions and the page their URL opens: the customer's subscriptions (cancel at
// period end, or renew again) and saved cards, and a link back to return_url.
import { StripeError, err } from "./errors.ts";
import { cancelSubscription, updateSubscription } from "./subscriptions.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, Params, type Ctx } from "./wire.ts";

export const portalPath = (worldId: string, id: string) => `/p/session/${worldId}/${id}`;

// ---- configurations: what the portal lets a customer do ----------------------------------------

type Features = Record<string, Record<string, unknown>>;

/** The features of a configuration nobody has set up: what the portal page has always offered. */
const DEFAULT_FEATURES = (): Features => ({
  customer_update: { allowed_updates: [], enabled: false },
  invoice_history: { enabled: true },
  payment_method_update: { enabled: true, payment_method_configuration: null },
  subscription_cancel: { cancellation_reason: { enabled: false, options: [] }, enabled: true, mode: "at_period_end", proration_behavior: "none" },
  subscription_pause: { enabled: false },
  subscription_update: { billing_cycle_anchor: null, default_allowed_updates: [], enabled: false, products: [], proration_behavior: "none", schedule_at_period_end: { conditions: [] }, trial_update_behavior: "end_trial" },
});

const OFF = (): Features => {
  const f = DEFAULT_FEATURES();
  for (const k of Object.keys(f)) f[k].enabled = false;
  return f;
};

function featuresOf(p: Params | null | undefined, base: Features): Features {
  if (!p) return base;
  p.allow(...Object.keys(base));
  const out: Features = structuredClone(base);
  for (const name of Object.keys(base)) {
    const f = p.obj(name);
    if (!f) continue;
    const cur = out[name];
    f.allow(...Object.keys(cur));
    if (f.has("enabled")) cur.enabled = f.bool("enabled") ?? cur.enabled;
    if (name === "subscription_cancel") {
      if (f.has("mode")) cur.mode = f.oneOf("mode", ["at_period_end", "immediately"]) ?? cur.mode;
      if (f.has("proration_behavior")) cur.proration_behavior = f.oneOf("proration_behavior", ["always_invoice", "create_prorations", "none"]) ?? cur.proration_behavior;
      const reason = f.obj("cancellation_reason");
      if (reason) {
        reason.allow("enabled", "options");
        cur.cancellation_reason = { enabled: reason.bool("enabled") ?? false, options: reason.strings("options") ?? [] };
      }
    }
    if (name === "customer_update" && f.has("allowed_updates")) cur.allowed_updates = f.strings("allowed_updates") ?? [];
    if (name === "subscription_update") {
      if (f.has("default_allowed_updates")) cur.default_allowed_updates = f.strings("default_allowed_updates") ?? [];
      if (f.has("proration_behavior")) cur.proration_behavior = f.oneOf("proration_behavior", ["always_invoice", "create_prorations", "none"]) ?? cur.proration_behavior;
      if (f.has("products")) throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Portal configurations with features[subscription_update][products] are not implemented by the Stripe clone yet." });
    }
  }
  return out;
}

function businessProfile(p: Params, prev: Record<string, unknown> | null): Record<string, unknown> {
  const b = p.obj("business_profile");
  const base = prev ?? { headline: null, privacy_policy_url: null, terms_of_service_url: null };
  if (!b) return base;
  b.allow("headline", "privacy_policy_url", "terms_of_service_url");
  return { headline: b.has("headline") ? (b.str("headline") ?? null) : base.headline, privacy_policy_url: b.has("privacy_policy_url") ? (b.str("privacy_policy_url") ?? null) : base.privacy_policy_url, terms_of_service_url: b.has("terms_of_service_url") ? (b.str("terms_of_service_url") ?? null) : base.terms_of_service_url };
}

function newConfiguration(s: Ctx, features: Features, extra: Partial<Obj> = {}): Obj {
  const now = unixNow(s.k);
  return {
    id: newId(s.k, "billing_portal.configuration"), object: "billing_portal.configuration", active: true, application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null }, created: now, default_return_url: null, features, is_default: false,
    livemode: false, login_page: { enabled: false, url: null }, metadata: {}, name: null, updated: now, ...extra,
  };
}

/** The account's default configuration, made on first use as the dashboard's would be. */
function defaultConfiguration(s: Ctx): Obj {
  const found = s.store.list("billing_portal.configuration", { limit: 1 }, { is_default: true }).data[0];
  if (found) return found;
  const c = newConfiguration(s, DEFAULT_FEATURES(), { is_default: true });
  s.store.insert("billing_portal.configuration", c);
  return c;
}

export function createConfiguration(s: Ctx, p: Params): Obj {
  p.allow("features", "business_profile", "default_return_url", "metadata", "login_page", "name");
  const c = newConfiguration(s, featuresOf(p.obj("features", { required: true }), OFF()), {
    business_profile: businessProfile(p, null), default_return_url: p.str("default_return_url") ?? null, metadata: metadata(p), name: p.str("name") ?? null,
  });
  const lp = p.obj("login_page");
  if (lp) {
    lp.allow("enabled");
    if (lp.bool("enabled")) c.login_page = { enabled: true, url: `${s.k.world().urls.stripe}/p/login/${s.k.world().worldId}/${c.id}` };
  }
  s.store.insert("billing_portal.configuration", c);
  emit(s, "billing_portal.configuration.created", c);
  return c;
}

export function updateConfiguration(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "features", "business_profile", "default_return_url", "metadata", "login_page", "name");
  const before = configurationOf(s, id);
  const next: Obj = {
    ...before,
    active: p.bool("active") ?? before.active,
    features: featuresOf(p.obj("features"), before.features as Features),
    business_profile: businessProfile(p, before.business_profile as Record<string, unknown>),
    default_return_url: p.has("default_return_url") ? (p.str("default_return_url") ?? null) : before.default_return_url,
    metadata: metadata(p, before.metadata as Record<string, string>),
    name: p.has("name") ? (p.str("name") ?? null) : before.name,
  };
  if (next.is_default && next.active === false) throw err.invalid("You cannot deactivate the default configuration.", { param: "active" });
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return before;
  next.updated = unixNow(s.k);
  s.store.save("billing_portal.configuration", next);
  emit(s, "billing_portal.configuration.updated", next, prev);
  return next;
}

export function configurationOf(s: Ctx, id: string, param = "configuration"): Obj {
  const c = s.store.find("billing_portal.configuration", id);
  if (!c) throw err.missing("configuration", id, param);
  return c;
}

export function listConfigurations(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "is_default");
  defaultConfiguration(s);
  return listJson("/v1/billing_portal/configurations", s.store.list("billing_portal.configuration", listQuery(p), { active: p.bool("active"), is_default: p.bool("is_default") }));
}

export function createPortalSession(s: Ctx, p: Params): Obj {
  p.allow("customer", "return_url", "configuration", "flow_data", "locale", "on_behalf_of", "customer_account");
  const customer = s.store.get("customer", p.reqStr("customer"), "customer");
  const configId = p.str("configuration");
  const config = configId ? configurationOf(s, configId) : defaultConfiguration(s);
  if (!config.active) throw err.invalid(`The configuration ${config.id} is not active.`, { param: "configuration" });
  const id = newId(s.k, "billing_portal.session");
  const session: Obj = {
    id,
    object: "billing_portal.session",
    configuration: config.id,
    created: unixNow(s.k),
    customer: customer.id,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: p.str("locale") ?? null,
    on_behalf_of: null,
    return_url: p.str("return_url") ?? (config.default_return_url as string | null) ?? null,
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
  const cancel = ((s.store.find("billing_portal.configuration", String(ps.configuration))?.features as Features | undefined) ?? DEFAULT_FEATURES()).subscription_cancel;
  if (!cancel.enabled) throw err.invalid("This portal does not let customers cancel or renew subscriptions.", { param: "action" });
  if (action === "cancel" && cancel.mode === "immediately") cancelSubscription(s, sub.id, new Params({}));
  else updateSubscription(s, sub.id, new Params({ cancel_at_period_end: action === "cancel" ? "true" : "false" }));
}

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (unix: unknown) => new Date(Number(unix) * 1000).toISOString().slice(0, 10);

export function portalPage(s: Ctx, id: string): string {
  const ps = s.store.find("billing_portal.session", id);
  if (!ps) return `<!doctype html><html><head><meta charset="utf-8"><title>Not found</title></head><body><p>This portal session does not exist.</p></body></html>`;
  const customer = s.store.get("customer", String(ps.customer), "customer", true);
  const base = portalPath(s.k.world().worldId, id);
  const features = (s.store.find("billing_portal.configuration", String(ps.configuration))?.features as Features | undefined) ?? DEFAULT_FEATURES();
  const canCancel = features.subscription_cancel.enabled === true;
  const subs = s.store.list("subscription", { limit: 100 }, { customer: customer.id }).data.filter((x) => x.status !== "canceled" && x.status !== "incomplete_expired");
  const subRows = subs.map((sub) => {
    const item = (sub.items as { data: Obj[] }).data[0];
    const price = item.price as Obj;
    const product = s.store.find("product", String(price.product));
    const ends = sub.cancel_at_period_end;
    if (!canCancel) return `<li data-subscription="${esc(sub.id)}">${esc(product?.name ?? price.id)}: ${esc(sub.status)}</li>`;
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
