// Stripe's test cards: numbers, `pm_card_*` and `tok_*` shortcuts, and how each behaves when charged.

export interface Decline {
  code: string;
  decline_code: string;
  message: string;
  /** A $0 verification (attaching to a customer) declines too. */
  onAttach: boolean;
}

export interface TestCard {
  number: string;
  brand: string;
  funding: "credit" | "debit" | "prepaid";
  country: string;
  decline?: Decline;
  /** 3-D Secure is required on every payment. */
  threeDS?: boolean;
  /** The charge is disputed right after it succeeds (disputes.ts). */
  dispute?: "fraudulent" | "product_not_received" | "inquiry";
}

const declined = (decline_code: string, message = "Your card was declined.", code = "card_declined", onAttach = true): Decline => ({ code, decline_code, message, onAttach });

const CARDS: Record<string, TestCard> = {
  "4242424242424242": { number: "4242424242424242", brand: "visa", funding: "credit", country: "US" },
  "4000056655665556": { number: "4000056655665556", brand: "visa", funding: "debit", country: "US" },
  "5555555555554444": { number: "5555555555554444", brand: "mastercard", funding: "credit", country: "US" },
  "378282246310005": { number: "378282246310005", brand: "amex", funding: "credit", country: "US" },
  "6011111111111117": { number: "6011111111111117", brand: "discover", funding: "credit", country: "US" },
  "4000000000000002": { number: "4000000000000002", brand: "visa", funding: "credit", country: "US", decline: declined("generic_decline") },
  "4000000000009995": { number: "4000000000009995", brand: "visa", funding: "credit", country: "US", decline: declined("insufficient_funds", "Your card has insufficient funds.", "card_declined", false) },
  "4000000000009987": { number: "4000000000009987", brand: "visa", funding: "credit", country: "US", decline: declined("lost_card") },
  "4000000000009979": { number: "4000000000009979", brand: "visa", funding: "credit", country: "US", decline: declined("stolen_card") },
  "4000000000000069": { number: "4000000000000069", brand: "visa", funding: "credit", country: "US", decline: declined("expired_card", "Your card has expired.", "expired_card") },
  "4000000000000127": { number: "4000000000000127", brand: "visa", funding: "credit", country: "US", decline: declined("incorrect_cvc", "Your card's security code is incorrect.", "incorrect_cvc") },
  "4000000000000119": { number: "4000000000000119", brand: "visa", funding: "credit", country: "US", decline: declined("processing_error", "An error occurred while processing your card. Try again in a little bit.", "processing_error") },
  "4000000000000341": { number: "4000000000000341", brand: "visa", funding: "credit", country: "US", decline: declined("generic_decline", "Your card was declined.", "card_declined", false) },
  "4000002760003184": { number: "4000002760003184", brand: "visa", funding: "credit", country: "DE", threeDS: true },
  "4000000000003220": { number: "4000000000003220", brand: "visa", funding: "credit", country: "US", threeDS: true },
  "4000000000000259": { number: "4000000000000259", brand: "visa", funding: "credit", country: "US", dispute: "fraudulent" },
  "4000000000002685": { number: "4000000000002685", brand: "visa", funding: "credit", country: "US", dispute: "product_not_received" },
  "4000000000001976": { number: "4000000000001976", brand: "visa", funding: "credit", country: "US", dispute: "inquiry" },
};

/** `pm_card_*` / `tok_*` suffixes and the card each stands for. */
const SHORTCUTS: Record<string, string> = {
  visa: "4242424242424242",
  visa_debit: "4000056655665556",
  mastercard: "5555555555554444",
  amex: "378282246310005",
  discover: "6011111111111117",
  chargeDeclined: "4000000000000002",
  chargeDeclinedInsufficientFunds: "4000000000009995",
  chargeDeclinedLostCard: "4000000000009987",
  chargeDeclinedStolenCard: "4000000000009979",
  chargeDeclinedExpiredCard: "4000000000000069",
  chargeDeclinedIncorrectCvc: "4000000000000127",
  chargeDeclinedProcessingError: "4000000000000119",
  chargeCustomerFail: "4000000000000341",
  threeDSecure2Required: "4000000000003220",
  threeDSecureRequired: "4000002760003184",
  authenticationRequired: "4000002760003184",
  createDispute: "4000000000000259",
  createDisputeProductNotReceived: "4000000000002685",
  createDisputeInquiry: "4000000000001976",
};

/** The test card a number names; any other Luhn-valid number behaves as a plain Visa-like success. */
export function cardByNumber(number: string): TestCard | null {
  const n = number.replace(/[\s-]/g, "");
  if (CARDS[n]) return CARDS[n];
  if (!/^\d{12,19}$/.test(n) || !luhn(n)) return null;
  const brand = n.startsWith("4") ? "visa" : /^5[1-5]/.test(n) ? "mastercard" : /^3[47]/.test(n) ? "amex" : /^6/.test(n) ? "discover" : "unknown";
  return { number: n, brand, funding: "credit", country: "US" };
}

/** The card a `pm_card_visa` / `tok_visa` shortcut names. */
export function cardByShortcut(id: string): TestCard | null {
  const m = /^(?:pm_card|tok)_(.+)$/.exec(id);
  const n = m ? SHORTCUTS[m[1]] : undefined;
  return n ? CARDS[n] : null;
}

function luhn(n: string): boolean {
  let sum = 0;
  for (let i = 0; i < n.length; i++) {
    let d = Number(n[n.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
