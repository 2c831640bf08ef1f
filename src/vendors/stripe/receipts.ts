// Receipt emails. Stripe emails a receipt for a successful payment that names a `receipt_email`;
// test mode does not, so an app's "the customer got a receipt" step could never be exercised.
// The clone sends it to the run's shared inbox (the email a live account would have sent), and
// the charge carries the receipt number as it does then.
import type { Obj } from "./store.ts";
import type { Ctx } from "./wire.ts";

const ACCOUNT = "Molar Clones test account";
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

/** A receipt number in Stripe's `1234-5678` form, deterministic for the run's seed. */
export function receiptNumber(s: Ctx): string {
  const d = s.k.ids.make("", 8, "hex").split("").map((c) => String(parseInt(c, 16) % 10)).join("");
  return `${d.slice(0, 4)}-${d.slice(4)}`;
}

/** Sends the receipt of a paid charge to its `receipt_email`. */
export function sendReceipt(s: Ctx, ch: Obj, number: string): void {
  const to = ch.receipt_email as string;
  const card = ((ch.payment_method_details as Obj | null)?.card ?? null) as Obj | null;
  const method = card ? `${String(card.brand).replace(/^./, (c) => c.toUpperCase())} - ${card.last4}` : "Card";
  const amount = money(ch.amount as number, ch.currency as string);
  const date = new Date((ch.created as number) * 1000).toUTCString().slice(5, 16);
  const subject = `Your receipt from ${ACCOUNT} #${number}`;
  const lines = [`Receipt from ${ACCOUNT}`, `Receipt #${number}`, `Amount paid: ${amount}`, `Date paid: ${date}`, `Payment method: ${method}`];
  if (ch.description) lines.push(`Description: ${ch.description}`);
  const html =
    `<h1>Receipt from ${escape(ACCOUNT)}</h1><p>Receipt #${escape(number)}</p><table>` +
    lines.slice(2).map((l) => `<tr><td>${escape(l.split(": ")[0])}</td><td>${escape(l.split(": ").slice(1).join(": "))}</td></tr>`).join("") +
    `</table>`;
  s.k.inbox.add({ kind: "stripe", channel: "email", to, from: "receipts@stripe.com", subject, text: lines.join("\n"), html, ref: ch.id as string });
}
