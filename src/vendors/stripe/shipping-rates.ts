// Shipping rates: a fixed amount (in one or more currencies) and a delivery estimate. Stripe
// emits no events for them; once made, only `active`, metadata, the tax behaviour and the other
// currencies' amounts change.
import { err } from "./errors.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";

const UNITS = ["business_day", "day", "hour", "month", "week"] as const;
const TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"] as const;

function estimate(p: Params): Obj["delivery_estimate"] {
  const d = p.obj("delivery_estimate");
  if (!d) return null;
  d.allow("maximum", "minimum");
  const bound = (key: string) => {
    const b = d.obj(key);
    if (!b) return null;
    b.allow("unit", "value");
    return { unit: b.oneOf("unit", UNITS, { required: true })!, value: b.int("value", { required: true, min: 1 })! };
  };
  return { maximum: bound("maximum"), minimum: bound("minimum") };
}

function currencyOptions(f: Params, base: string, prev: Record<string, unknown> = {}): Record<string, unknown> | undefined {
  const o = f.obj("currency_options");
  if (!o) return Object.keys(prev).length ? prev : undefined;
  const out: Record<string, unknown> = { ...prev };
  for (const cur of Object.keys(o.raw)) {
    if (cur.toLowerCase() === base) throw err.invalid(`fixed_amount[currency_options] cannot include the shipping rate's own currency (${base}).`, { param: `fixed_amount[currency_options][${cur}]` });
    const c = o.obj(cur)!;
    c.allow("amount", "tax_behavior");
    const was = (prev[cur] as { amount?: number; tax_behavior?: string } | undefined) ?? {};
    out[cur.toLowerCase()] = { amount: c.int("amount", { min: 0 }) ?? was.amount ?? 0, tax_behavior: c.oneOf("tax_behavior", TAX_BEHAVIORS) ?? was.tax_behavior ?? "unspecified" };
  }
  return out;
}

export function createShippingRate(s: Ctx, p: Params): Obj {
  p.allow("display_name", "delivery_estimate", "fixed_amount", "metadata", "tax_behavior", "tax_code", "type");
  const displayName = p.reqStr("display_name");
  if (displayName.length > 100) throw err.invalid("display_name must be at most 100 characters.", { param: "display_name" });
  p.oneOf("type", ["fixed_amount"]);
  const f = p.obj("fixed_amount");
  if (!f) throw err.missingParam("fixed_amount");
  f.allow("amount", "currency", "currency_options");
  const amount = f.int("amount", { required: true, min: 0 })!;
  const currency = f.reqStr("currency").toLowerCase();
  const options = currencyOptions(f, currency);
  const taxCode = p.str("tax_code") ?? null;
  if (taxCode && !/^txcd_\d{8}$/.test(taxCode)) throw err.missing("tax code", taxCode, "tax_code");
  const rate: Obj = {
    id: newId(s.k, "shipping_rate"),
    object: "shipping_rate",
    active: true,
    created: unixNow(s.k),
    delivery_estimate: estimate(p),
    display_name: displayName,
    fixed_amount: options ? { amount, currency, currency_options: options } : { amount, currency },
    livemode: false,
    metadata: metadata(p),
    tax_behavior: p.oneOf("tax_behavior", TAX_BEHAVIORS) ?? "unspecified",
    tax_code: taxCode,
    type: "fixed_amount",
  };
  return s.store.insert("shipping_rate", rate);
}

export function updateShippingRate(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "fixed_amount", "metadata", "tax_behavior");
  const before = s.store.get("shipping_rate", id);
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("active")) next.active = p.bool("active") ?? before.active;
  if (p.has("tax_behavior")) {
    const tb = p.oneOf("tax_behavior", TAX_BEHAVIORS) ?? "unspecified";
    // Stripe lets an unspecified behaviour be set once, never changed after.
    if (before.tax_behavior !== "unspecified" && tb !== before.tax_behavior) throw err.invalid("The tax_behavior of a shipping rate cannot be changed once it is set.", { param: "tax_behavior" });
    next.tax_behavior = tb;
  }
  const f = p.obj("fixed_amount");
  if (f) {
    f.allow("currency_options");
    const fa = before.fixed_amount as Obj;
    next.fixed_amount = { ...fa, currency_options: currencyOptions(f, String(fa.currency), (fa.currency_options as Record<string, unknown>) ?? {}) };
  }
  return JSON.stringify(next) === JSON.stringify(before) ? before : s.store.save("shipping_rate", next);
}

export function listShippingRates(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "currency");
  const currency = p.str("currency")?.toLowerCase();
  return listJson("/v1/shipping_rates", s.store.list("shipping_rate", listQuery(p), { active: p.bool("active"), "fixed_amount.currency": currency }));
}
