// Credit notes: an adjustment of a finalized invoice. The amount first lowers what is still owed
// (pre_payment_amount: amount_due and amount_remaining, an open invoice owing nothing more is
// paid); the rest (post_payment_amount) must be given back as the caller says: a refund of the
// invoice's payment, a credit to the customer's balance, or outside Stripe. Voiding undoes the
// first two kinds; a refund cannot be taken back.
import { StripeError, err } from "./errors.ts";
import { emit, changed } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, pageOf, Params, type Ctx } from "./wire.ts";
import { createRefund } from "./charges.ts";
import { recordBalance } from "./customer-balance.ts";

const notBuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `Credit notes with ${what} are not implemented by the Stripe clone yet.` });
const REASONS = ["duplicate", "fraudulent", "order_change", "product_unsatisfactory"] as const;
const CREATE = ["invoice", "amount", "lines", "reason", "memo", "metadata", "credit_amount", "refund_amount", "out_of_band_amount", "effective_at", "email_type", "refunds", "shipping_cost"];

interface Built {
  note: Obj;
  invoice: Obj;
  refundAmount: number;
  creditAmount: number;
}

function lineOf(s: Ctx, inv: Obj, l: Params, i: number): Obj {
  l.allow("type", "invoice_line_item", "amount", "quantity", "unit_amount", "unit_amount_decimal", "description", "tax_rates", "metadata");
  const type = l.oneOf("type", ["invoice_line_item", "custom_line_item"], { required: true })!;
  const base = {
    id: s.k.ids.make("cnli_", 24), object: "credit_note_line_item", discount_amount: 0, discount_amounts: [], livemode: false,
    metadata: metadata(l), pretax_credit_amounts: [], tax_rates: [], taxes: [], type,
  };
  if (type === "custom_line_item") {
    const unit = l.int("unit_amount", { required: true, min: 0 })!;
    const quantity = l.int("quantity", { min: 1 }) ?? 1;
    const description = l.str("description");
    if (!description) throw err.missingParam(`lines[${i}][description]`);
    return { ...base, amount: unit * quantity, description, invoice_line_item: null, quantity, unit_amount: unit, unit_amount_decimal: String(unit) };
  }
  const lineId = l.reqStr("invoice_line_item");
  const line = (inv.lines as { data: Obj[] }).data.find((x) => x.id === lineId);
  if (!line) throw err.invalid(`Invoice line item ${lineId} does not belong to invoice ${inv.id}.`, { param: `lines[${i}][invoice_line_item]` });
  const lineAmount = Number(line.amount);
  const lineQty = Number(line.quantity ?? 1) || 1;
  const quantity = l.int("quantity", { min: 1 });
  const amount = l.int("amount", { min: 0 }) ?? (quantity !== undefined ? Math.round((lineAmount / lineQty) * quantity) : lineAmount);
  if (amount > lineAmount) throw err.invalid(`The credit note line amount (${amount}) cannot exceed the invoice line item's amount (${lineAmount}).`, { param: `lines[${i}][amount]` });
  const unit = Math.round(lineAmount / lineQty);
  return { ...base, amount, description: line.description ?? null, invoice_line_item: lineId, quantity: quantity ?? lineQty, unit_amount: unit, unit_amount_decimal: String(unit) };
}

/** The credit note a request describes, checked against its invoice; nothing is written. */
function build(s: Ctx, p: Params): Built {
  p.allow(...CREATE);
  const inv = s.store.get("invoice", p.reqStr("invoice"), "invoice");
  if (inv.status !== "open" && inv.status !== "paid") {
    throw err.invalid(`Invoice ${inv.id} has a status of ${inv.status}. Credit notes can only be issued on open or paid invoices.`, { param: "invoice" });
  }
  if (p.has("refunds")) throw notBuilt("`refunds` (linking existing refunds)");
  if (p.has("shipping_cost")) throw notBuilt("`shipping_cost`");
  const lines = (p.list("lines") ?? []).map((l, i) => lineOf(s, inv, l, i));
  const linesTotal = lines.reduce((n, l) => n + Number(l.amount), 0);
  const amount = p.int("amount", { min: 1 }) ?? (lines.length ? linesTotal : undefined);
  if (amount === undefined) throw err.invalid("You must pass either `amount` or `lines` to create a credit note.", { param: "amount" });
  if (lines.length && amount !== linesTotal) throw err.invalid(`The credit note amount (${amount}) must equal the sum of its lines (${linesTotal}).`, { param: "amount" });
  const credited = s.store.all("credit_note").filter((c) => c.invoice === inv.id && c.status !== "void").reduce((n, c) => n + Number(c.amount), 0);
  if (credited + amount > Number(inv.total)) {
    throw err.invalid(`The sum of credit amounts (${credited + amount}) cannot exceed the invoice's total (${inv.total}).`, { param: "amount" });
  }
  const pre = inv.status === "open" ? Math.min(amount, Number(inv.amount_remaining)) : 0;
  const post = amount - pre;
  const refundAmount = p.int("refund_amount", { min: 0 }) ?? 0;
  const creditAmount = p.int("credit_amount", { min: 0 }) ?? 0;
  const outOfBand = p.int("out_of_band_amount", { min: 0 });
  if (refundAmount + creditAmount + (outOfBand ?? 0) !== post) {
    throw err.invalid(
      `The sum of credit_amount, refund_amount and out_of_band_amount (${refundAmount + creditAmount + (outOfBand ?? 0)}) must equal the credit note's post_payment_amount (${post}).`,
      { param: post === 0 ? "credit_amount" : "out_of_band_amount" },
    );
  }
  const n = s.store.all("credit_note").filter((c) => c.invoice === inv.id).length + 1;
  const id = newId(s.k, "credit_note");
  const now = unixNow(s.k);
  const note: Obj = {
    id,
    object: "credit_note",
    amount,
    amount_shipping: 0,
    created: now,
    currency: inv.currency,
    customer: inv.customer,
    customer_account: null,
    customer_balance_transaction: null,
    discount_amount: 0,
    discount_amounts: [],
    effective_at: p.int("effective_at", { min: 0 }) ?? now,
    invoice: inv.id,
    lines: { object: "list", data: lines.map((l) => ({ ...l })), has_more: false, total_count: lines.length, url: `/v1/credit_notes/${id}/lines` },
    livemode: false,
    memo: p.str("memo") ?? null,
    metadata: metadata(p),
    number: `${inv.number}-CN-${String(n).padStart(2, "0")}`,
    out_of_band_amount: outOfBand ?? null,
    pdf: `/v1/credit_notes/${id}/pdf`,
    post_payment_amount: post,
    pre_payment_amount: pre,
    pretax_credit_amounts: [],
    reason: p.oneOf("reason", REASONS) ?? null,
    refunds: [],
    shipping_cost: null,
    status: "issued",
    subtotal: amount,
    subtotal_excluding_tax: amount,
    total: amount,
    total_excluding_tax: amount,
    total_taxes: [],
    type: post === 0 ? "pre_payment" : pre === 0 ? "post_payment" : "mixed",
    voided_at: null,
  };
  for (const l of (note.lines as { data: Obj[] }).data) l.credit_note = id;
  return { note, invoice: inv, refundAmount, creditAmount };
}

export function previewCreditNote(s: Ctx, p: Params): Obj {
  const { note } = build(s, p);
  return { ...note, id: `cnpreview_${String(note.id).slice(3)}`, object: "credit_note" };
}

export function previewLines(s: Ctx, p: Params) {
  const q = new Params(Object.fromEntries(Object.entries(p.raw).filter(([k]) => !LIST_PARAMS.includes(k))));
  const { note } = build(s, q);
  return { object: "list", data: (note.lines as { data: Obj[] }).data, has_more: false, url: "/v1/credit_notes/preview/lines" };
}

export function createCreditNote(s: Ctx, p: Params): Obj {
  const { note, invoice, refundAmount, creditAmount } = build(s, p);
  if (refundAmount > 0) {
    const pi = s.store.internal<{ paymentIntent?: string }>("invoice", invoice.id).paymentIntent;
    if (!pi) throw err.invalid(`Invoice ${invoice.id} has no payment to refund: give the amount as credit_amount or out_of_band_amount.`, { param: "refund_amount" });
    const refund = createRefund(s, new Params({ payment_intent: pi, amount: String(refundAmount) }));
    note.refunds = [{ amount_refunded: refundAmount, payment_record_refund: null, refund: refund.id, type: "refund" }];
  }
  if (creditAmount > 0) {
    const customer = s.store.get("customer", String(invoice.customer));
    const tx = recordBalance(s, customer, -creditAmount, "credit_note", { currency: String(invoice.currency), invoice: invoice.id });
    s.store.save("customer_balance_transaction", { ...tx, credit_note: note.id });
    note.customer_balance_transaction = tx.id;
  }
  s.store.insert("credit_note", note);
  const before = s.store.get("invoice", invoice.id);
  const pre = Number(note.pre_payment_amount);
  const next: Obj = {
    ...before,
    amount_due: Number(before.amount_due) - pre,
    amount_remaining: Number(before.amount_remaining) - pre,
    pre_payment_credit_notes_amount: Number(before.pre_payment_credit_notes_amount ?? 0) + pre,
    post_payment_credit_notes_amount: Number(before.post_payment_credit_notes_amount ?? 0) + Number(note.post_payment_amount),
  };
  // An open invoice a credit note leaves owing nothing is paid.
  const paidNow = before.status === "open" && Number(next.amount_remaining) === 0;
  if (paidNow) Object.assign(next, { status: "paid", next_payment_attempt: null, status_transitions: { ...(before.status_transitions as Obj), paid_at: unixNow(s.k) } });
  s.store.save("invoice", next);
  emit(s, "credit_note.created", note);
  emit(s, "invoice.updated", next, changed(before, next));
  if (paidNow) emit(s, "invoice.paid", next);
  return note;
}

export function updateCreditNote(s: Ctx, id: string, p: Params): Obj {
  p.allow("memo", "metadata");
  const before = s.store.get("credit_note", id);
  const next = { ...before, memo: p.has("memo") ? (p.str("memo") ?? null) : before.memo, metadata: metadata(p, before.metadata as Record<string, string>) };
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return before;
  s.store.save("credit_note", next);
  emit(s, "credit_note.updated", next, prev);
  return next;
}

export function voidCreditNote(s: Ctx, id: string): Obj {
  const before = s.store.get("credit_note", id);
  if (before.status === "void") throw err.invalid(`Credit note ${id} has already been voided.`, { param: "id" });
  if ((before.refunds as unknown[]).length) throw err.invalid(`Credit note ${id} has refunds and cannot be voided: a refund cannot be taken back.`, { param: "id" });
  const inv = s.store.get("invoice", String(before.invoice));
  const pre = Number(before.pre_payment_amount);
  if (pre > 0 && inv.status !== "open") throw err.invalid(`Credit note ${id} cannot be voided: its invoice ${inv.id} is ${inv.status}.`, { param: "id" });
  if (before.customer_balance_transaction) {
    const customer = s.store.get("customer", String(before.customer));
    const credit = Number(before.post_payment_amount) - Number(before.out_of_band_amount ?? 0);
    const tx = recordBalance(s, customer, credit, "credit_note", { currency: String(before.currency), invoice: inv.id });
    s.store.save("customer_balance_transaction", { ...tx, credit_note: id });
  }
  const next = { ...before, status: "void", voided_at: unixNow(s.k) };
  s.store.save("credit_note", next);
  const invNext: Obj = {
    ...inv,
    amount_due: Number(inv.amount_due) + pre,
    amount_remaining: Number(inv.amount_remaining) + pre,
    pre_payment_credit_notes_amount: Number(inv.pre_payment_credit_notes_amount ?? 0) - pre,
    post_payment_credit_notes_amount: Number(inv.post_payment_credit_notes_amount ?? 0) - Number(before.post_payment_amount),
  };
  s.store.save("invoice", invNext);
  emit(s, "credit_note.voided", next, changed(before, next));
  emit(s, "invoice.updated", invNext, changed(inv, invNext));
  return next;
}

export function listCreditNotes(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "invoice", "customer");
  return listJson("/v1/credit_notes", s.store.list("credit_note", listQuery(p), { invoice: p.str("invoice") ?? undefined, customer: p.str("customer") ?? undefined }));
}

export function creditNoteLines(s: Ctx, id: string, p: Params) {
  p.allow(...LIST_PARAMS);
  return pageOf((s.store.get("credit_note", id).lines as { data: Obj[] }).data, listQuery(p), `/v1/credit_notes/${id}/lines`, "credit note line item");
}
