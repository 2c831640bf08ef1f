// Products and prices (one-off and recurring).
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, search, type Ctx, type Params } from "./wire.ts";

const PRODUCT = ["name", "id", "active", "description", "metadata", "default_price_data", "images", "marketing_features", "package_dimensions", "shippable", "statement_descriptor", "tax_code", "unit_label", "url", "type", "tax_details"];

export function createProduct(s: Ctx, p: Params): Obj {
  p.allow(...PRODUCT);
  const id = p.str("id") ?? newId(s.k, "product");
  if (s.store.row("product", id)) throw err.invalid(`Product already exists.`, { code: "resource_already_exists", param: "id" });
  const now = unixNow(s.k);
  const prod: Obj = {
    id,
    object: "product",
    active: p.bool("active") ?? true,
    created: now,
    default_price: null,
    description: p.str("description") ?? null,
    images: p.strings("images") ?? [],
    livemode: false,
    marketing_features: [],
    metadata: metadata(p),
    name: p.reqStr("name"),
    package_dimensions: null,
    shippable: p.bool("shippable") ?? null,
    statement_descriptor: p.str("statement_descriptor") ?? null,
    tax_code: p.str("tax_code") ?? null,
    type: "service",
    unit_label: p.str("unit_label") ?? null,
    updated: now,
    url: p.str("url") ?? null,
  };
  s.store.insert("product", prod);
  emit(s, "product.created", prod);
  const dpd = p.obj("default_price_data");
  if (dpd) {
    dpd.allow("currency", "unit_amount", "unit_amount_decimal", "recurring", "tax_behavior", "currency_options", "metadata");
    const price = insertPrice(s, dpd, id, "default_price_data");
    prod.default_price = price.id;
    s.store.save("product", prod);
  }
  return prod;
}

export function updateProduct(s: Ctx, id: string, p: Params): Obj {
  p.allow(...PRODUCT.filter((f) => f !== "id" && f !== "default_price_data" && f !== "type"), "default_price");
  const before = s.store.get("product", id);
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("name")) next.name = p.reqStr("name");
  if (p.has("active")) next.active = p.bool("active") ?? before.active;
  for (const f of ["description", "statement_descriptor", "tax_code", "unit_label", "url"]) if (p.has(f)) next[f] = p.str(f) ?? null;
  if (p.has("images")) next.images = p.strings("images") ?? [];
  if (p.has("shippable")) next.shippable = p.bool("shippable") ?? null;
  if (p.has("default_price")) {
    const price = p.str("default_price") ?? null;
    if (price) {
      const pr = s.store.get("price", price, "default_price");
      if (pr.product !== id) throw err.invalid(`The price ${price} does not belong to product ${id}.`, { param: "default_price" });
    }
    next.default_price = price;
  }
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  next.updated = unixNow(s.k);
  s.store.save("product", next);
  emit(s, "product.updated", next, prev);
  return next;
}

export function deleteProduct(s: Ctx, id: string) {
  const prod = s.store.get("product", id);
  if (s.store.list("price", { limit: 1 }, { product: id }).data.length) {
    throw err.invalid("This product cannot be deleted because it has one or more user-created prices.", { code: "product_has_prices" });
  }
  s.store.remove("product", id);
  emit(s, "product.deleted", prod);
  return { id, object: "product", deleted: true };
}

export function listProducts(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "ids", "shippable", "url");
  return listJson("/v1/products", s.store.list("product", listQuery(p), { active: p.bool("active"), id: p.strings("ids"), shippable: p.bool("shippable") }));
}

export const searchProducts = (s: Ctx, p: Params) => search(s, p, "product", "products", ["active", "created", "description", "name", "shippable", "url"]);

// ---- prices ---------------------------------------------------------------------------------

const PRICE = ["currency", "product", "product_data", "unit_amount", "unit_amount_decimal", "recurring", "nickname", "lookup_key", "metadata", "active", "tax_behavior",
  "billing_scheme", "transfer_lookup_key", "currency_options", "custom_unit_amount", "tiers", "tiers_mode", "transform_quantity"];

export function insertPrice(s: Ctx, p: Params, product: string, prefix = "", id?: string): Obj {
  const name = (f: string) => (prefix ? `${prefix}[${f}]` : f);
  const currency = p.reqStr("currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw err.invalid(`Invalid currency: ${currency}.`, { param: name("currency") });
  let unitAmount = p.int("unit_amount", { min: 0 });
  const decimal = p.str("unit_amount_decimal") ?? undefined;
  if (unitAmount === undefined && decimal !== undefined) unitAmount = Math.round(Number(decimal));
  if (unitAmount === undefined) throw err.missingParam(name("unit_amount"));
  const r = p.obj("recurring");
  let recurring: Obj["recurring"] = null;
  if (r) {
    r.allow("interval", "interval_count", "usage_type", "aggregate_usage", "meter", "trial_period_days");
    const interval = r.oneOf("interval", ["day", "week", "month", "year"], { required: true })!;
    const count = r.int("interval_count", { min: 1 }) ?? 1;
    const maxCount = { day: 1095, week: 156, month: 36, year: 3 }[interval];
    if (count > maxCount) throw err.invalid(`The maximum billing interval is 3 years (${maxCount} ${interval}s).`, { param: r.name("interval_count") });
    recurring = { interval, interval_count: count, meter: null, trial_period_days: r.int("trial_period_days") ?? null, usage_type: r.oneOf("usage_type", ["licensed", "metered"]) ?? "licensed" };
  }
  const lookupKey = p.str("lookup_key") ?? null;
  if (lookupKey) {
    const other = s.store.list("price", { limit: 1 }, { lookup_key: lookupKey }).data[0];
    if (other) {
      if (!p.bool("transfer_lookup_key")) throw err.invalid(`A price (\`${other.id}\`) already uses that lookup key.`, { param: name("lookup_key") });
      s.store.save("price", { ...other, lookup_key: null });
    }
  }
  const price: Obj = {
    id: id ?? newId(s.k, "price"),
    object: "price",
    active: p.bool("active") ?? true,
    billing_scheme: p.oneOf("billing_scheme", ["per_unit", "tiered"]) ?? "per_unit",
    created: unixNow(s.k),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: lookupKey,
    metadata: metadata(p),
    nickname: p.str("nickname") ?? null,
    product,
    recurring,
    tax_behavior: p.oneOf("tax_behavior", ["exclusive", "inclusive", "unspecified"]) ?? "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    unit_amount: unitAmount,
    unit_amount_decimal: decimal ?? String(unitAmount),
  };
  s.store.insert("price", price);
  emit(s, "price.created", price);
  return price;
}

export function createPrice(s: Ctx, p: Params): Obj {
  p.allow(...PRICE);
  let product = p.str("product") ?? null;
  const pd = p.obj("product_data");
  if (product && pd) throw err.invalid("You may only specify one of these parameters: product, product_data.", { param: "product" });
  if (product) {
    if (!s.store.find("product", product)) throw err.missing("product", product, "product");
  } else if (pd) {
    pd.allow("name", "active", "metadata", "statement_descriptor", "tax_code", "unit_label", "id");
    product = createProduct(s, pd).id;
  } else throw err.invalid("You must specify either `product` or `product_data` when creating a price.", { code: "parameter_missing", param: "product" });
  return insertPrice(s, p, product);
}

export function updatePrice(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "metadata", "nickname", "lookup_key", "tax_behavior", "transfer_lookup_key", "currency_options");
  const before = s.store.get("price", id, "price");
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("active")) next.active = p.bool("active") ?? before.active;
  if (p.has("nickname")) next.nickname = p.str("nickname") ?? null;
  if (p.has("lookup_key")) next.lookup_key = p.str("lookup_key") ?? null;
  if (p.has("tax_behavior")) next.tax_behavior = p.oneOf("tax_behavior", ["exclusive", "inclusive", "unspecified"]);
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("price", next);
  emit(s, "price.updated", next, prev);
  return next;
}

export function listPrices(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "currency", "lookup_keys", "product", "recurring", "type");
  return listJson("/v1/prices", s.store.list("price", listQuery(p), {
    active: p.bool("active"), currency: p.str("currency") ?? undefined, lookup_key: p.strings("lookup_keys"), product: p.str("product") ?? undefined,
    type: p.oneOf("type", ["one_time", "recurring"]),
  }));
}

export const searchPrices = (s: Ctx, p: Params) => search(s, p, "price", "prices", ["active", "created", "currency", "lookup_key", "product", "type"]);
