// Coupons, promotion codes, and the discounts they become when a subscription redeems them.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, type Ctx } from "./wire.ts";

const CODE = (s: Ctx, stream: string) => s.k.ids.make(`${stream}:`, 8).slice(stream.length + 1).toUpperCase();

export function createCoupon(s: Ctx, p: Params): Obj {
  p.allow("id", "amount_off", "currency", "duration", "duration_in_months", "max_redemptions", "metadata", "name", "percent_off", "redeem_by", "applies_to", "currency_options");
  const id = p.str("id") ?? CODE(s, "coupon");
  if (s.store.row("coupon", id)) throw err.invalid("Coupon already exists.", { code: "resource_already_exists", param: "id" });
  const amountOff = p.int("amount_off", { min: 1 });
  const pct = p.str("percent_off") ?? undefined;
  const percentOff = pct === undefined ? undefined : Number(pct);
  if ((amountOff === undefined) === (percentOff === undefined)) throw err.invalid("Coupons must have exactly one of amount_off or percent_off.", { param: "amount_off" });
  if (percentOff !== undefined && !(percentOff > 0 && percentOff <= 100)) throw err.invalid("Invalid percent_off: must be greater than 0 and at most 100.", { param: "percent_off" });
  const currency = p.str("currency")?.toLowerCase() ?? null;
  if (amountOff !== undefined && !currency) throw err.missingParam("currency");
  const duration = p.oneOf("duration", ["forever", "once", "repeating"]) ?? "once";
  const months = p.int("duration_in_months", { min: 1 });
  if (duration === "repeating" && months === undefined) throw err.missingParam("duration_in_months");
  const c: Obj = {
    id,
    object: "coupon",
    amount_off: amountOff ?? null,
    created: unixNow(s.k),
    currency: amountOff !== undefined ? currency : null,
    duration,
    duration_in_months: duration === "repeating" ? months! : null,
    livemode: false,
    max_redemptions: p.int("max_redemptions", { min: 1 }) ?? null,
    metadata: metadata(p),
    name: p.str("name") ?? null,
    percent_off: percentOff ?? null,
    redeem_by: p.int("redeem_by") ?? null,
    times_redeemed: 0,
    valid: true,
  };
  s.store.insert("coupon", c);
  emit(s, "coupon.created", c);
  return c;
}

export function updateCoupon(s: Ctx, id: string, p: Params): Obj {
  p.allow("metadata", "name", "currency_options");
  const before = s.store.get("coupon", id, "coupon");
  const next = { ...before, metadata: metadata(p, before.metadata as Record<string, string>), name: p.has("name") ? (p.str("name") ?? null) : before.name };
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("coupon", next);
  emit(s, "coupon.updated", next, prev);
  return next;
}

export function deleteCoupon(s: Ctx, id: string) {
  const c = s.store.get("coupon", id, "coupon");
  s.store.remove("coupon", id);
  emit(s, "coupon.deleted", { ...c, valid: false });
  return { id, object: "coupon", deleted: true };
}

export const listCoupons = (s: Ctx, p: Params) => (p.allow(...LIST_PARAMS), listJson("/v1/coupons", s.store.list("coupon", listQuery(p))));

export function createPromotionCode(s: Ctx, p: Params): Obj {
  p.allow("promotion", "code", "active", "customer", "customer_account", "expires_at", "max_redemptions", "metadata", "restrictions");
  const promo = p.obj("promotion", { required: true })!;
  promo.allow("type", "coupon");
  promo.oneOf("type", ["coupon"], { required: true });
  const coupon = s.store.get("coupon", promo.reqStr("coupon"), "promotion[coupon]");
  const code = p.str("code") ?? CODE(s, "promo_code");
  if (!/^[A-Za-z0-9]{1,500}$/.test(code)) throw err.invalid("Promotion codes may only contain alphanumeric characters.", { param: "code" });
  if (s.store.list("promotion_code", { limit: 1 }, { code, active: true }).data.length) {
    throw err.invalid(`An active promotion code with \`code: ${code}\` already exists.`, { code: "resource_already_exists", param: "code" });
  }
  const customer = p.str("customer") ?? null;
  if (customer) s.store.get("customer", customer, "customer");
  const r = p.obj("restrictions");
  r?.allow("first_time_transaction", "minimum_amount", "minimum_amount_currency", "currency_options");
  const pc: Obj = {
    id: newId(s.k, "promotion_code"),
    object: "promotion_code",
    active: p.bool("active") ?? true,
    code,
    created: unixNow(s.k),
    customer,
    customer_account: null,
    expires_at: p.int("expires_at") ?? null,
    livemode: false,
    max_redemptions: p.int("max_redemptions", { min: 1 }) ?? null,
    metadata: metadata(p),
    promotion: { coupon: coupon.id, type: "coupon" },
    restrictions: { first_time_transaction: r?.bool("first_time_transaction") ?? false, minimum_amount: r?.int("minimum_amount") ?? null, minimum_amount_currency: r?.str("minimum_amount_currency") ?? null },
    times_redeemed: 0,
  };
  s.store.insert("promotion_code", pc);
  emit(s, "promotion_code.created", pc);
  return pc;
}

export function updatePromotionCode(s: Ctx, id: string, p: Params): Obj {
  p.allow("active", "metadata", "restrictions");
  const before = s.store.get("promotion_code", id, "promotion_code");
  const next = { ...before, metadata: metadata(p, before.metadata as Record<string, string>), active: p.bool("active") ?? before.active };
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("promotion_code", next);
  emit(s, "promotion_code.updated", next, prev);
  return next;
}

export function listPromotionCodes(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "active", "code", "coupon", "customer", "customer_account");
  return listJson("/v1/promotion_codes", s.store.list("promotion_code", listQuery(p), {
    active: p.bool("active"), code: p.str("code") ?? undefined, "promotion.coupon": p.str("coupon") ?? undefined, customer: p.str("customer") ?? undefined,
  }));
}

/**
 * Redeems `discounts[i][coupon|promotion_code]` for a subscription: checks validity, counts the
 * redemption, and answers the discount objects (`di_...`).
 */
export function redeem(s: Ctx, list: unknown, customer: string, subscription: string): Obj[] {
  if (list === undefined || list === "") return [];
  const items = Array.isArray(list) ? list : typeof list === "object" && list !== null ? Object.values(list) : null;
  if (!items) throw err.invalidArray("discounts");
  return items.map((raw, i) => {
    const d = new Params(raw as Record<string, unknown>, `discounts[${i}]`);
    d.allow("coupon", "promotion_code", "discount");
    let promo: Obj | null = null;
    let couponId = d.str("coupon") ?? null;
    const promoId = d.str("promotion_code") ?? null;
    if (promoId) {
      promo = s.store.get("promotion_code", promoId, `discounts[${i}][promotion_code]`);
      const now = unixNow(s.k);
      if (!promo.active || (promo.expires_at && Number(promo.expires_at) < now) || (promo.max_redemptions && Number(promo.times_redeemed) >= Number(promo.max_redemptions))) {
        throw err.invalid(`This promotion code cannot be redeemed: ${promo.code}.`, { code: "promotion_code_invalid", param: `discounts[${i}][promotion_code]` });
      }
      if (promo.customer && promo.customer !== customer) throw err.invalid("This promotion code cannot be redeemed by this customer.", { code: "promotion_code_customer_not_eligible", param: `discounts[${i}][promotion_code]` });
      couponId = String((promo.promotion as Obj).coupon);
      s.store.save("promotion_code", { ...promo, times_redeemed: Number(promo.times_redeemed) + 1 });
    }
    if (!couponId) throw err.missingParam(`discounts[${i}][coupon]`);
    const coupon = s.store.get("coupon", couponId, `discounts[${i}][coupon]`);
    const now = unixNow(s.k);
    if ((coupon.redeem_by && Number(coupon.redeem_by) < now) || (coupon.max_redemptions && Number(coupon.times_redeemed) >= Number(coupon.max_redemptions))) {
      throw err.invalid(`Coupon expired: ${coupon.id}`, { code: "coupon_expired", param: `discounts[${i}][coupon]` });
    }
    const redeemed = Number(coupon.times_redeemed) + 1;
    s.store.save("coupon", { ...coupon, times_redeemed: redeemed, valid: !(coupon.max_redemptions && redeemed >= Number(coupon.max_redemptions)) });
    const end = coupon.duration === "repeating" ? (() => {
      const dt = new Date(now * 1000);
      dt.setUTCMonth(dt.getUTCMonth() + Number(coupon.duration_in_months));
      return Math.floor(dt.getTime() / 1000);
    })() : null;
    const discount: Obj = {
      id: newId(s.k, "discount"), object: "discount", checkout_session: null, customer, customer_account: null, end, invoice: null, invoice_item: null,
      promotion_code: promo?.id ?? null, source: { coupon: coupon.id, type: "coupon" }, start: now, subscription, subscription_item: null,
    };
    s.store.insert("discount", discount, { duration: coupon.duration, uses: 0 });
    emit(s, "customer.discount.created", discount);
    return discount;
  });
}

/** The amounts a subscription's discounts take off an invoice of `subtotal`, consuming `once` coupons. */
export function discountAmounts(s: Ctx, discountIds: string[], subtotal: number, currency: string, periodStart: number): { discount: string; amount: number }[] {
  const out: { discount: string; amount: number }[] = [];
  let left = subtotal;
  for (const id of discountIds) {
    const d = s.store.find("discount", id);
    if (!d || subtotal === 0) continue;
    const { duration, uses } = s.store.internal<{ duration: string; uses: number }>("discount", id);
    if (duration === "once" && uses > 0) continue;
    if (d.end && periodStart >= Number(d.end)) continue;
    const coupon = s.store.find("coupon", String((d.source as Obj).coupon)) ?? null;
    if (!coupon) continue;
    let amount = coupon.percent_off !== null ? Math.round((subtotal * Number(coupon.percent_off)) / 100) : coupon.currency === currency ? Number(coupon.amount_off) : 0;
    amount = Math.min(amount, left);
    left -= amount;
    s.store.setInternal("discount", id, { duration, uses: uses + 1 });
    out.push({ discount: id, amount });
  }
  return out;
}
