// A customer's credit balance: every change is a customer_balance_transaction (negative is credit
// the customer holds, positive what they owe). Finalizing an invoice applies the balance to it,
// voiding it gives the applied part back, as Stripe Billing does.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";

interface Why {
  currency?: string;
  description?: string | null;
  invoice?: string | null;
  metadata?: Record<string, string> | null;
  /** The customer's balance already holds the amount (a customer created or updated with one). */
  applied?: boolean;
}

/** Moves a customer's balance by `amount`, recording why; emits customer.updated unless `applied`. */
export function recordBalance(s: Ctx, customer: Obj, amount: number, type: string, why: Why = {}): Obj {
  const currency = why.currency ?? (customer.currency as string | null) ?? "usd";
  const ending = Number(customer.balance) + (why.applied ? 0 : amount);
  const tx: Obj = {
    id: newId(s.k, "customer_balance_transaction"),
    object: "customer_balance_transaction",
    amount,
    checkout_session: null,
    created: unixNow(s.k),
    credit_note: null,
    currency,
    customer: customer.id,
    customer_account: null,
    description: why.description ?? null,
    ending_balance: ending,
    invoice: why.invoice ?? null,
    livemode: false,
    metadata: why.metadata ?? null,
    type,
  };
  s.store.insert("customer_balance_transaction", tx);
  if (why.applied) return tx;
  const before = s.store.get("customer", customer.id);
  // A balance is in one currency: the first transaction in one sets the customer's.
  const next = { ...before, balance: ending, currency: before.currency ?? why.currency ?? null };
  s.store.save("customer", next);
  emit(s, "customer.updated", next, changed(before, next));
  return tx;
}

/** The part of a customer's balance an invoice in `currency` can take: one in another currency waits. */
export function usableBalance(customer: Obj, currency: string): number {
  return customer.currency === null || customer.currency === undefined || customer.currency === currency ? Number(customer.balance ?? 0) : 0;
}

/**
 * What a finalized invoice's balance fields become: the customer's balance is taken into its
 * amount due (credit lowers it, a debt raises it), and a negative total is credited to the
 * customer. The customer's balance moves by what was applied.
 */
export function applyBalance(s: Ctx, customer: Obj, inv: Obj): Partial<Obj> {
  const total = Number(inv.total);
  const usable = usableBalance(customer, String(inv.currency));
  // A $0 invoice (a trial's) leaves the balance for the next one.
  if (total === 0) return { starting_balance: usable, ending_balance: usable, amount_due: 0, amount_remaining: 0 };
  const net = total + usable;
  const ending = Math.min(0, net);
  const due = Math.max(0, net);
  if (ending !== usable) recordBalance(s, customer, ending - usable, "applied_to_invoice", { currency: String(inv.currency), invoice: inv.id });
  return { starting_balance: usable, ending_balance: ending, amount_due: due, amount_remaining: due };
}

/** A voided invoice gives back what its finalization took from (or added to) the balance. */
export function unapplyBalance(s: Ctx, inv: Obj): void {
  const applied = Number(inv.ending_balance ?? inv.starting_balance) - Number(inv.starting_balance);
  if (applied === 0) return;
  const customer = s.store.find("customer", String(inv.customer));
  if (customer) recordBalance(s, customer, -applied, "unapplied_from_invoice", { currency: String(inv.currency), invoice: inv.id });
}

function customerOf(s: Ctx, id: string): Obj {
  return s.store.get("customer", id, "customer");
}

function transactionOf(s: Ctx, customerId: string, id: string): Obj {
  customerOf(s, customerId);
  const tx = s.store.find("customer_balance_transaction", id);
  if (!tx || tx.customer !== customerId) throw err.missing("customer balance transaction", id);
  return tx;
}

export function createBalanceTransaction(s: Ctx, customerId: string, p: Params): Obj {
  p.allow("amount", "currency", "description", "metadata");
  const customer = customerOf(s, customerId);
  const amount = p.int("amount", { required: true })!;
  const currency = p.reqStr("currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw err.invalid(`Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, ...`, { param: "currency" });
  if (customer.currency && customer.currency !== currency) {
    throw err.invalid(`The currency ${currency} does not match the customer's currency ${String(customer.currency)}. A customer's balance can only be adjusted in its own currency.`, { param: "currency" });
  }
  return recordBalance(s, customer, amount, "adjustment", { currency, description: p.str("description") ?? null, metadata: metadata(p) });
}

export function retrieveBalanceTransaction(s: Ctx, customerId: string, id: string): Obj {
  return transactionOf(s, customerId, id);
}

/** Only the description and metadata of a balance transaction change. */
export function updateBalanceTransaction(s: Ctx, customerId: string, id: string, p: Params): Obj {
  p.allow("description", "metadata");
  const before = transactionOf(s, customerId, id);
  const next: Obj = { ...before, metadata: metadata(p, (before.metadata as Record<string, string> | null) ?? {}) };
  if (p.has("description")) next.description = p.str("description") ?? null;
  if (JSON.stringify(next) === JSON.stringify(before)) return before;
  return s.store.save("customer_balance_transaction", next);
}

export function listBalanceTransactions(s: Ctx, customerId: string, p: Params) {
  p.allow(...LIST_PARAMS, "invoice");
  customerOf(s, customerId);
  return listJson(`/v1/customers/${customerId}/balance_transactions`, s.store.list("customer_balance_transaction", listQuery(p), { customer: customerId, invoice: p.str("invoice") ?? undefined }));
}
