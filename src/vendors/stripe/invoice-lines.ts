// A draft's lines edited in place (add_lines, update_lines, remove_lines). Each line a caller
// adds is an invoice item on the draft, so these go through the invoice item rules (pricing,
// tax rates, currency) and the draft's lines and totals follow, as at Stripe.
import { err, StripeError } from "./errors.ts";
import { itemLine } from "./invoices.ts";
import { createInvoiceItem, deleteInvoiceItem, draftOf, relineDraft, saveDraftLines, updateInvoice, updateInvoiceItem } from "./invoicing.ts";
import type { Obj } from "./store.ts";
import { Params, type Ctx } from "./wire.ts";

const FIELDS = ["amount", "description", "discountable", "discounts", "metadata", "period", "price_data", "pricing", "quantity", "quantity_decimal", "tax_rates"];

/** `lines[]`, each read with its own name (`lines[0][amount]`) in errors. */
function linesOf(p: Params): Params[] {
  const raw = p.raw.lines;
  if (raw === undefined || raw === "") throw err.missingParam("lines");
  const list = Array.isArray(raw) ? raw : typeof raw === "object" && raw !== null ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("lines");
  return list.map((l, i) => {
    if (typeof l !== "object" || l === null || Array.isArray(l)) throw err.invalidObject(`lines[${i}]`);
    const lp = new Params(l as Record<string, unknown>, `lines[${i}]`);
    if (lp.has("tax_amounts")) throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Lines with tax_amounts are not implemented by the Stripe clone yet; use tax_rates." });
    return lp;
  });
}

/** The invoice item behind a line of the draft, or Stripe's error for a line that has none. */
function itemOfLine(s: Ctx, inv: Obj, lp: Params): string {
  const lineId = lp.reqStr("id");
  const line = (inv.lines as { data: Obj[] }).data.find((l) => l.id === lineId);
  if (!line) throw err.invalid(`No such invoice line item: '${lineId}'`, { status: 404, code: "resource_missing", param: lp.name("id") });
  const item = ((line.parent as Obj | null)?.invoice_item_details as Obj | null)?.invoice_item;
  if (typeof item !== "string") throw err.invalid(`The line ${lineId} comes from a subscription: only lines of invoice items can be changed.`, { param: lp.name("id") });
  return item;
}

/** `invoice_metadata` goes on the invoice; the invoice answers. */
function done(s: Ctx, id: string, p: Params): Obj {
  if (p.has("invoice_metadata")) updateInvoice(s, id, new Params({ metadata: p.raw.invoice_metadata }));
  return s.store.get("invoice", id);
}

export function addLines(s: Ctx, id: string, p: Params): Obj {
  p.allow("lines", "invoice_metadata");
  const inv = draftOf(s, id, "invoice");
  for (const lp of linesOf(p)) {
    lp.allow(...FIELDS, "invoice_item", "tax_amounts");
    const itemId = lp.str("invoice_item");
    const { invoice_item: _, ...fields } = lp.raw;
    if (!itemId) {
      createInvoiceItem(s, new Params({ ...fields, customer: String(inv.customer), invoice: id, ...(fields.currency === undefined ? { currency: String(inv.currency) } : {}) }, lp.prefix));
      continue;
    }
    // A pending item of the customer joins the draft (changed by the line's other fields).
    const item = s.store.get("invoiceitem", itemId, lp.name("invoice_item"));
    if (item.customer !== inv.customer) throw err.invalid(`The invoice item ${itemId} belongs to another customer.`, { param: lp.name("invoice_item") });
    if (item.invoice) throw err.invalid(`The invoice item ${itemId} is already on invoice ${String(item.invoice)}.`, { param: lp.name("invoice_item") });
    if (item.currency !== inv.currency) throw err.invalid(`The currency of the invoice item ${itemId} (${String(item.currency)}) differs from the invoice's (${String(inv.currency)}).`, { param: lp.name("invoice_item") });
    const joined = s.store.save("invoiceitem", { ...item, invoice: id });
    const draft = s.store.get("invoice", id);
    saveDraftLines(s, draft, [...(draft.lines as { data: Obj[] }).data, itemLine(s, id, joined)]);
    if (Object.keys(fields).length) updateInvoiceItem(s, itemId, new Params(fields, lp.prefix));
  }
  return done(s, id, p);
}

export function updateLines(s: Ctx, id: string, p: Params): Obj {
  p.allow("lines", "invoice_metadata");
  draftOf(s, id, "invoice");
  for (const lp of linesOf(p)) {
    lp.allow(...FIELDS, "id", "tax_amounts");
    const itemId = itemOfLine(s, s.store.get("invoice", id), lp);
    const { id: _, ...fields } = lp.raw;
    updateInvoiceItem(s, itemId, new Params(fields, lp.prefix));
  }
  return done(s, id, p);
}

/** `delete` removes the line's item; `unassign` sends it back to the customer's pending items. */
export function removeLines(s: Ctx, id: string, p: Params): Obj {
  p.allow("lines", "invoice_metadata");
  draftOf(s, id, "invoice");
  for (const lp of linesOf(p)) {
    lp.allow("id", "behavior");
    const behavior = lp.oneOf("behavior", ["delete", "unassign"], { required: true });
    const itemId = itemOfLine(s, s.store.get("invoice", id), lp);
    if (behavior === "delete") {
      deleteInvoiceItem(s, itemId);
      continue;
    }
    s.store.save("invoiceitem", { ...s.store.get("invoiceitem", itemId), invoice: null });
    relineDraft(s, id, itemId, null);
  }
  return done(s, id, p);
}
