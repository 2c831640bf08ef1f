// Tax rates and what they do to invoices: a line is taxed by its own rates (its subscription
// item's or invoice item's `tax_rates`), else by the invoice's `default_tax_rates` (a
// subscription's invoices take the subscription's). Exclusive rates add to the total; inclusive
// ones are carved out of the line's amount. Stripe computes each tax on the line's amount after
// its discounts and rounds per line.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";

const TAX_TYPES = [
  "admissions_tax", "amusement_tax", "attendance_tax", "communications_tax", "digital_excise_tax", "entertainment_tax", "get_fund", "gross_receipts_tax", "gst",
  "hospitality_tax", "hst", "igst", "jct", "lease_tax", "luxury_tax", "mass_transit_parking_tax", "nhil", "parking_tax", "pst", "qst", "resort_tax",
  "retail_delivery_fee", "rst", "sales_tax", "service_tax", "tourism_tax", "utility_users_tax", "vat",
] as const;

/** A percentage as Stripe takes it: a decimal with up to four places, 0 to 100. */
function percentage(p: Params): number {
  const v = p.reqStr("percentage");
  if (!/^\d+(\.\d{1,4})?$/.test(v)) throw err.invalid(`Invalid decimal: ${v}`, { param: "percentage" });
  const n = Number(v);
  if (n > 100) throw err.invalid("Percentage must be between 0 and 100.", { param: "percentage" });
  return n;
}

function country(p: Params): string | null | undefined {
  const c = p.str("country");
  if (c && !/^[A-Za-z]{2}$/.test(c)) throw err.invalid(`Country '${c}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://stripe.com/docs/api/country_specs`, { param: "country" });
  return c ? c.toUpperCase() : c;
}

export function createTaxRate(s: Ctx, p: Params): Obj {
  p.allow("display_name", "inclusive", "percentage", "active", "country", "description", "jurisdiction", "metadata", "state", "tax_type");
  const displayName = p.reqStr("display_name");
  if (displayName.length > 50) throw err.invalid("display_name must be at most 50 characters.", { param: "display_name" });
  const inclusive = p.bool("inclusive");
  if (inclusive === undefined) throw err.missingParam("inclusive");
  const pct = percentage(p);
  const c = country(p) ?? null;
  const rate: Obj = {
    id: newId(s.k, "tax_rate"),
    object: "tax_rate",
    active: p.bool("active") ?? true,
    country: c,
    created: unixNow(s.k),
    description: p.str("description") ?? null,
    display_name: displayName,
    effective_percentage: pct,
    flat_amount: null,
    inclusive,
    jurisdiction: p.str("jurisdiction") ?? null,
    jurisdiction_level: null,
    livemode: false,
    metadata: metadata(p),
    percentage: pct,
    rate_type: "percentage",
    state: p.str("state") ?? null,
    tax_type: p.oneOf("tax_type", TAX_TYPES) ?? null,
  };
  s.store.insert("tax_rate", rate);
  emit(s, "tax_rate.created", rate);
  return rate;
}

/** Only the descriptive fields change: a rate's percentage and inclusivity are fixed, as at Stripe. */
export function updateTaxRate(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "country", "description", "display_name", "jurisdiction", "metadata", "state", "tax_type");
  const before = s.store.get("tax_rate", id, "tax_rate");
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("active")) next.active = p.bool("active") ?? before.active;
  if (p.has("country")) next.country = country(p) ?? null;
  if (p.has("description")) next.description = p.str("description") ?? null;
  if (p.has("display_name")) next.display_name = p.str("display_name") ?? before.display_name;
  if (p.has("jurisdiction")) next.jurisdiction = p.str("jurisdiction") ?? null;
  if (p.has("state")) next.state = p.str("state") ?? null;
  if (p.has("tax_type")) next.tax_type = p.oneOf("tax_type", TAX_TYPES) ?? null;
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("tax_rate", next);
  emit(s, "tax_rate.updated", next, prev);
  return next;
}

export function listTaxRates(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "inclusive");
  return listJson("/v1/tax_rates", s.store.list("tax_rate", listQuery(p), { active: p.bool("active"), inclusive: p.bool("inclusive") }));
}

/**
 * The tax rates a `tax_rates` / `default_tax_rates` parameter names, as objects (how Stripe
 * shows them on subscriptions, items and invoices); "" clears them. Undefined when not given.
 */
export function taxRatesParam(s: Ctx, p: Params, key: string): Obj[] | undefined {
  const ids = p.strings(key);
  if (ids === undefined) return undefined;
  if (ids.length > 10) throw err.invalid(`You may only specify up to 10 tax rates (${ids.length} given).`, { param: p.name(key) });
  const seen = new Set<string>();
  return ids.map((id, i) => {
    const param = `${p.name(key)}[${i}]`;
    const rate = s.store.get("tax_rate", id, param);
    if (!rate.active) throw err.invalid(`The tax rate ${id} is inactive and cannot be used; archived tax rates can't be applied to new objects.`, { param });
    if (seen.has(id)) throw err.invalid(`The tax rate ${id} was given more than once.`, { param });
    seen.add(id);
    return rate;
  });
}

export const rateIds = (rates: unknown): string[] => ((rates as Obj[] | null | undefined) ?? []).map((r) => r.id);

export type Tax = { amount: number; tax_behavior: "exclusive" | "inclusive"; tax_rate_details: { tax_rate: string }; taxability_reason: string; taxable_amount: number; type: "tax_rate_details" };

/** One line's taxes: `amount` net of the line's discounts, taxed by `rates`. */
export function lineTaxes(amount: number, rates: Obj[]): Tax[] {
  if (rates.length === 0) return [];
  const inclusive = rates.filter((r) => r.inclusive);
  const exclusive = rates.filter((r) => !r.inclusive);
  // An inclusive rate's base is the amount without every inclusive tax in it.
  const inclusivePct = inclusive.reduce((n, r) => n + Number(r.percentage), 0);
  const base = Math.round(amount / (1 + inclusivePct / 100));
  const tax = (r: Obj, on: number): Tax => ({
    amount: Math.round((on * Number(r.percentage)) / 100),
    tax_behavior: r.inclusive ? "inclusive" : "exclusive",
    tax_rate_details: { tax_rate: r.id },
    taxability_reason: "not_available",
    taxable_amount: on,
    type: "tax_rate_details",
  });
  const carved = inclusive.map((r) => tax(r, base));
  // One inclusive rate: its tax is exactly what the base leaves of the amount, so nothing is lost to rounding.
  if (carved.length === 1) carved[0].amount = amount - base;
  return [...carved, ...exclusive.map((r) => tax(r, base))];
}

/**
 * An invoice with its lines taxed and every total recomputed from them. `ratesOf` answers a
 * line's own rates (empty: the invoice's defaults apply); `discounted` is the invoice-level
 * discount total.
 */
export function withTaxes(s: Ctx, inv: Obj, lineData: Obj[], ratesOf: (line: Obj, i: number) => string[], discounted: number): Obj {
  const defaults = rateIds(inv.default_tax_rates);
  const cache = new Map<string, Obj>();
  const rate = (id: string) => {
    if (!cache.has(id)) cache.set(id, s.store.get("tax_rate", id));
    return cache.get(id)!;
  };
  let inclusiveTax = 0;
  let exclusiveTax = 0;
  const totals = new Map<string, Tax>();
  const lines = lineData.map((l, i) => {
    const own = ratesOf(l, i);
    const ids = own.length ? own : defaults;
    const lineDiscount = ((l.discount_amounts as { amount: number }[] | null) ?? []).reduce((n, d) => n + d.amount, 0);
    const taxes = lineTaxes(Number(l.amount) - lineDiscount, ids.map(rate));
    for (const t of taxes) {
      if (t.tax_behavior === "inclusive") inclusiveTax += t.amount;
      else exclusiveTax += t.amount;
      const sum = totals.get(t.tax_rate_details.tax_rate);
      totals.set(t.tax_rate_details.tax_rate, sum ? { ...sum, amount: sum.amount + t.amount, taxable_amount: sum.taxable_amount + t.taxable_amount } : { ...t });
    }
    return ids.length || (l.taxes as unknown[] | undefined)?.length ? { ...l, taxes } : l;
  });
  const subtotal = lines.reduce((n, l) => n + Number(l.amount), 0);
  const total = subtotal - discounted + exclusiveTax;
  // A draft shows the customer's balance it will take in when finalized.
  const due = total === 0 ? 0 : Math.max(0, total + Number(inv.starting_balance ?? 0));
  return {
    ...inv,
    lines: { ...(inv.lines as Obj), data: lines, total_count: lines.length },
    subtotal,
    subtotal_excluding_tax: subtotal - inclusiveTax,
    total,
    total_excluding_tax: total - inclusiveTax - exclusiveTax,
    total_taxes: [...totals.values()],
    amount_due: due,
    amount_remaining: due,
  };
}
