// The account's balance: every captured charge and every refund is a balance_transaction (a
// charge net of Stripe's US card fee, 2.9% + 30¢), pending until its `available_on` day on the run
// clock; GET /v1/balance sums them by currency.
import { freshOnRead, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, type Ctx, type Params } from "./wire.ts";

const DAY = 86_400;
/** Funds of a US account become available two days after the charge, at midnight UTC. */
const PAYOUT_DELAY_DAYS = 2;

/** Stripe's standard fee for a US card: 2.9% + 30¢. */
export const cardFee = (amount: number) => Math.round(amount * 0.029) + 30;

/** A transaction's status follows the run clock: pending until the day it becomes available. */
export function withStatus(now: number, tx: Obj): Obj {
  const status = Number(tx.available_on) <= now ? "available" : "pending";
  return tx.status === status ? tx : { ...tx, status };
}

freshOnRead("balance_transaction", withStatus);

function insert(s: Ctx, tx: Obj): void {
  s.store.insert("balance_transaction", withStatus(unixNow(s.k), tx));
}

/** The transaction of a captured charge (its id is the charge's `balance_transaction`). */
export function chargeTransaction(s: Ctx, ch: Obj): void {
  const amount = Number(ch.amount_captured);
  const fee = cardFee(amount);
  const created = unixNow(s.k);
  insert(s, {
    id: String(ch.balance_transaction),
    object: "balance_transaction",
    amount,
    available_on: Math.floor(created / DAY) * DAY + PAYOUT_DELAY_DAYS * DAY,
    balance_type: "payments",
    created,
    currency: ch.currency,
    description: ch.description ?? null,
    exchange_rate: null,
    fee,
    fee_details: [{ amount: fee, application: null, currency: ch.currency, description: "Stripe processing fees", type: "stripe_fee" }],
    net: amount - fee,
    reporting_category: "charge",
    source: ch.id,
    status: "pending",
    type: "charge",
  });
}

/**
 * A chargeback's movement of the balance (funds withdrawn with Stripe's dispute fee, or
 * reinstated with the fee given back): available at once. Answers the transaction (a dispute
 * carries them whole).
 */
export function disputeTransaction(s: Ctx, dispute: Obj, amount: number, fee: number, what: string): Obj {
  const created = unixNow(s.k);
  const tx: Obj = {
    id: s.k.ids.make("txn_", 24),
    object: "balance_transaction",
    amount,
    available_on: created,
    balance_type: "payments",
    created,
    currency: dispute.currency,
    description: `${what} for ${String(dispute.charge)}`,
    exchange_rate: null,
    fee,
    fee_details: fee ? [{ amount: fee, application: null, currency: dispute.currency, description: "Dispute fee", type: "stripe_fee" }] : [],
    net: amount - fee,
    reporting_category: amount < 0 ? "dispute" : "dispute_reversal",
    source: dispute.id,
    status: "available",
    type: "adjustment",
  };
  insert(s, tx);
  return withStatus(created, tx);
}

/** A refund leaves the balance at once; Stripe keeps the original charge's fee. */
export function refundTransaction(s: Ctx, refund: Obj, charge: Obj): void {
  const created = unixNow(s.k);
  const amount = -Number(refund.amount);
  insert(s, {
    id: String(refund.balance_transaction),
    object: "balance_transaction",
    amount,
    available_on: created,
    balance_type: "payments",
    created,
    currency: refund.currency,
    description: `REFUND FOR CHARGE (${String(charge.description ?? "Payment")})`,
    exchange_rate: null,
    fee: 0,
    fee_details: [],
    net: amount,
    reporting_category: "refund",
    source: refund.id,
    status: "available",
    type: "refund",
  });
}


export function listBalanceTransactions(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "currency", "payout", "source", "type");
  return listJson("/v1/balance_transactions", s.store.list("balance_transaction", listQuery(p), {
    currency: p.str("currency")?.toLowerCase(), source: p.str("source") ?? undefined, type: p.str("type") ?? undefined,
    // A payout's own transactions: the payout and its cancellation.
    ...(p.str("payout") ? { source: p.str("payout") } : {}),
  }));
}

/** What a payout can take: the available balance in `currency`. */
export function availableOf(s: Ctx, currency: string): number {
  return funds(s).find((r) => r.currency === currency)?.available ?? 0;
}

/** A payout leaving the balance (negative) or a canceled one coming back: available at once. */
export function payoutTransaction(s: Ctx, payoutId: string, amount: number, currency: string, description: string, type: "payout" | "payout_cancel"): string {
  const created = unixNow(s.k);
  const id = s.k.ids.make("txn_", 24);
  insert(s, {
    id, object: "balance_transaction", amount, available_on: created, balance_type: "payments", created, currency, description, exchange_rate: null,
    fee: 0, fee_details: [], net: amount, reporting_category: type === "payout" ? "payout" : "payout_reversal", source: payoutId, status: "available", type,
  });
  return id;
}

function funds(s: Ctx) {
  const now = unixNow(s.k);
  const rows = s.k.sql.exec<{ currency: string; available: number; pending: number }>(
    `SELECT json_extract(data, '$.currency') AS currency,
            SUM(CASE WHEN json_extract(data, '$.available_on') <= ? THEN json_extract(data, '$.net') ELSE 0 END) AS available,
            SUM(CASE WHEN json_extract(data, '$.available_on') > ? THEN json_extract(data, '$.net') ELSE 0 END) AS pending
     FROM stripe_balance_transactions WHERE deleted = 0 GROUP BY 1 ORDER BY 1`, now, now,
  ).toArray();
  return rows;
}

/** Available and pending funds by currency (a new account shows zero dollars, as Stripe does). */
export function balance(s: Ctx, p: Params) {
  p.allow();
  const rows = funds(s);
  const all = rows.length ? rows : [{ currency: "usd", available: 0, pending: 0 }];
  return {
    object: "balance",
    available: all.map((r) => ({ amount: r.available, currency: r.currency, source_types: { card: r.available } })),
    connect_reserved: all.map((r) => ({ amount: 0, currency: r.currency })),
    livemode: false,
    pending: all.map((r) => ({ amount: r.pending, currency: r.currency, source_types: { card: r.pending } })),
  };
}
