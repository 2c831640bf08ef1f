import type { VendorErrors } from "../../kernel/types.ts";

// Stripe's error envelope: { error: { type, code?, decline_code?, message, param?, doc_url? } }.
export function stripeError(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return Response.json({ error }, { status, headers: { "request-id": `req_${crypto.randomUUID().replaceAll("-", "").slice(0, 14)}`, ...headers } });
}

export const stripeErrors: VendorErrors = {
  unauthorized: () =>
    stripeError(401, {
      type: "invalid_request_error",
      message: "Invalid API Key provided. You can find your API keys in the run's `clones.stripe.secretKey`.",
    }, { "www-authenticate": 'Basic realm="Stripe"' }),
  notFound: (method, path) =>
    stripeError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),
  notImplemented: (method, path) =>
    stripeError(501, { type: "api_error", code: "not_implemented", message: `${method} ${path} is not implemented by the Stripe clone yet.` }),
  rateLimited: (retryAfter, message) =>
    stripeError(429, {
      type: "invalid_request_error",
      code: "rate_limit",
      message: message ?? "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    }, { "retry-after": String(retryAfter), "stripe-should-retry": "false" }),
  tooLarge: (limit) => stripeError(413, { type: "invalid_request_error", message: `Request body exceeds ${limit} bytes.` }),
  injected: (status, preset) => {
    if (preset === "card_declined" || status === 402)
      return stripeError(402, { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." });
    if (status === 429) return stripeErrors.rateLimited(1);
    if (preset === "idempotency_conflict")
      return stripeError(400, {
        type: "idempotency_error",
        message: "Keys for idempotent requests can only be used with the same parameters they were first used with.",
      });
    if (status >= 500) return stripeError(status, { type: "api_error", message: "An unexpected error occurred (injected by chaos)." }, { "stripe-should-retry": "false" });
    return stripeError(status, { type: "invalid_request_error", message: `Injected failure (${status}).` });
  },
  internal: () => stripeError(500, { type: "api_error", message: "An unknown error occurred in the Stripe clone." }),
};
