// Plans, the Prices API's predecessor that older integrations still call: a plan is a recurring
// price seen through the plan's shape (amount, interval, and an id the caller may choose). Its
// writes emit both the plan's and the price's events, as Stripe does.
import { StripeError, err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import type { Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, Params, type Ctx } from "./wire.ts";
import { createProduct, insertPrice } from "./catalog.ts";

export function planOf(price: Obj): Obj {
  const r = price.recurring as { interval: string; interval_count: number; usage_type: string; trial_period_days: number | null; meter: string | null };
  return {
    id: price.id, object: "plan", active: price.active, aggregate_usage: null, amount: price.unit_amount, amount_decimal: String(price.unit_amount_decimal ?? price.unit_amount),
    billing_scheme: price.billing_scheme, created: price.created, currency: price.currency, interval: r.interval, interval_count: r.interval_count, livemode: false,
    metadata: price.metadata, meter: r.meter ?? null, nickname: price.nickname, product: price.product, tiers_mode: null, transform_usage: null,
    trial_period_days: r.trial_period_days ?? null, usage_type: r.usage_type,
  };
}

function priceOfPlan(s: Ctx, id: string, param = "plan"): Obj {
  const price = s.store.find("price", id);
  if (!price || !price.recurring) throw err.missing("plan", id, param);
  return price;
}

export function createPlan(s: Ctx, p: Params): Obj {
  p.allow("id", "amount", "amount_decimal", "currency", "interval", "interval_count", "product", "nickname", "metadata", "active", "usage_type", "billing_scheme", "trial_period_days", "meter");
  const id = p.str("id") ?? undefined;
  if (id !== undefined && s.store.row("price", id)) throw err.invalid("Plan already exists.", { code: "resource_already_exists", param: "id" });
  if (p.oneOf("billing_scheme", ["per_unit", "tiered"]) === "tiered") throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Tiered plans are not implemented by the Stripe clone yet." });
  let product: string;
  const named = typeof p.raw.product === "object" ? p.obj("product") : null;
  if (named) {
    named.allow("name", "active", "id", "metadata", "statement_descriptor", "tax_code", "unit_label");
    product = createProduct(s, named).id;
  } else {
    const pid = p.str("product");
    if (!pid) throw err.missingParam("product");
    if (!s.store.find("product", pid)) throw err.missing("product", pid, "product");
    product = pid;
  }
  const amount = p.str("amount") ?? p.str("amount_decimal");
  if (amount === undefined || amount === null) throw err.missingParam("amount");
  const recurring: Record<string, string> = { interval: p.oneOf("interval", ["day", "week", "month", "year"], { required: true })! };
  for (const k of ["interval_count", "usage_type", "trial_period_days"]) if (p.has(k)) recurring[k] = String(p.str(k));
  const raw: Record<string, unknown> = { currency: p.reqStr("currency"), unit_amount: amount, recurring, ...(p.has("nickname") ? { nickname: p.str("nickname") } : {}) };
  if (p.has("active")) raw.active = String(p.bool("active"));
  const price = insertPrice(s, new Params({ ...raw, metadata: p.raw.metadata ?? {} }), product, "", id);
  const plan = planOf(price);
  emit(s, "plan.created", plan);
  return plan;
}

export function retrievePlan(s: Ctx, id: string): Obj {
  return planOf(priceOfPlan(s, id, "id"));
}

export function updatePlan(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "metadata", "nickname", "product", "trial_period_days");
  const before = priceOfPlan(s, id, "id");
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("active")) next.active = p.bool("active") ?? before.active;
  if (p.has("nickname")) next.nickname = p.str("nickname") ?? null;
  if (p.has("product")) {
    const pid = p.reqStr("product");
    if (!s.store.find("product", pid)) throw err.missing("product", pid, "product");
    next.product = pid;
  }
  if (p.has("trial_period_days")) next.recurring = { ...(before.recurring as Obj), trial_period_days: p.int("trial_period_days", { min: 0 }) ?? null };
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return planOf(before);
  s.store.save("price", next);
  emit(s, "price.updated", next, prev);
  emit(s, "plan.updated", planOf(next), changed(planOf(before), planOf(next)));
  return planOf(next);
}

export function deletePlan(s: Ctx, id: string): Obj {
  const price = priceOfPlan(s, id, "id");
  const tomb = { id: price.id, object: "plan", deleted: true };
  s.store.markDeleted("price", price.id, { ...price, active: false });
  emit(s, "plan.deleted", planOf({ ...price, active: false }));
  return tomb;
}

export function listPlans(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "product");
  const page = s.store.list("price", listQuery(p), { active: p.bool("active"), product: p.str("product") ?? undefined, type: "recurring" });
  return listJson("/v1/plans", { ...page, data: page.data.map(planOf) });
}
