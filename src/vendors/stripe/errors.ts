import { HTTPException } from "hono/http-exception";
import type { VendorErrors } from "../../kernel/types.ts";

// Stripe's error envelope: { error: { type, code?, decline_code?, message, param?, doc_url? } }.
export function stripeError(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return Response.json({ error }, { status, headers: { "request-id": `req_${crypto.randomUUID().replaceAll("-", "").slice(0, 14)}`, ...headers } });
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;

/**
 * A Stripe error thrown from the domain. Thrown, it rolls the request back. `committed` errors
 * (a declined card) are answered by the route after the request's writes are kept: at Stripe a
 * decline leaves a failed charge, an updated PaymentIntent and events behind.
 */
export class StripeError extends HTTPException {
  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
    readonly committed = false,
  ) {
    // A 5xx from the domain is a clone limit (an unbuilt variant): retrying would only repeat it.
    super(statusCode as 400, { res: stripeError(statusCode, body, statusCode >= 500 ? { "stripe-should-retry": "false" } : {}), message: String(body.message) });
  }
}

function invalidRequest(message: string, extra: { code?: string; param?: string; status?: number } = {}): StripeError {
  const { status = 400, code, param } = extra;
  return new StripeError(status, { type: "invalid_request_error", ...(code ? { code, doc_url: docUrl(code) } : {}), message, ...(param ? { param } : {}) });
}

export const err = {
  invalid: invalidRequest,
  /** 404 resource_missing: `No such customer: 'cus_x'`. */
  missing: (what: string, id: string, param = "id") => invalidRequest(`No such ${what}: '${id}'`, { status: 404, code: "resource_missing", param }),
  missingParam: (param: string) => invalidRequest(`Missing required param: ${param}.`, { code: "parameter_missing", param }),
  unknownParam: (param: string) =>
    invalidRequest(`Received unknown parameter: ${param}`, { code: "parameter_unknown", param }),
  invalidInteger: (param: string, v: unknown) => invalidRequest(`Invalid integer: ${display(v)}`, { code: "parameter_invalid_integer", param }),
  invalidBoolean: (param: string, v: unknown) =>
    invalidRequest(`Invalid boolean: ${display(v)}`, { code: "parameter_invalid_boolean", param }),
  invalidString: (param: string) => invalidRequest(`Invalid string: ${param}`, { code: "parameter_invalid_string", param }),
  invalidObject: (param: string) => invalidRequest(`Invalid object`, { code: "parameter_invalid_object", param }),
  invalidArray: (param: string) => invalidRequest(`Invalid array`, { code: "parameter_invalid_array", param }),
  invalidEnum: (param: string, values: string[]) =>
    invalidRequest(`Invalid ${param}: must be one of ${values.length > 1 ? `${values.slice(0, -1).join(", ")}, or ${values[values.length - 1]}` : values[0]}`, { param }),
  unexpectedState: (message: string, param?: string) => invalidRequest(message, { code: "payment_intent_unexpected_state", param }),
  idempotency: (key: string) =>
    new StripeError(400, {
      type: "idempotency_error",
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    }),
  /** A card decline, answered 402 after the failed charge and the PaymentIntent's update are kept. */
  card: (body: Record<string, unknown>) => new StripeError(402, { type: "card_error", ...body }, true),
};

function display(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export const stripeErrors: VendorErrors = {
  unauthorized: (missing) =>
    missing
      ? stripeError(401, {
          type: "invalid_request_error",
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        }, { "www-authenticate": 'Bearer realm="Stripe"' })
      : stripeError(401, {
          type: "invalid_request_error",
          message: "Invalid API Key provided. You can find your API keys in the run's `clones.stripe.secretKey`.",
        }, { "www-authenticate": 'Basic realm="Stripe"' }),
  notFound: (method, path) =>
    stripeError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),
  // Stripe-Should-Retry: false, or the SDK would retry a 501 twice with back-off.
  notImplemented: (method, path) =>
    stripeError(501, { type: "api_error", code: "not_implemented", message: `${method} ${path} is not implemented by the Stripe clone yet.` }, { "stripe-should-retry": "false" }),
  rateLimited: (retryAfter, message) =>
    stripeError(429, {
      type: "invalid_request_error",
      code: "rate_limit",
      doc_url: docUrl("rate_limit"),
      message: message ?? "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    }, { "retry-after": String(retryAfter), "stripe-should-retry": "false" }),
  tooLarge: (limit) => stripeError(413, { type: "invalid_request_error", message: `Request body exceeds ${limit} bytes.` }),
  injected: (status, preset) => {
    if (status === 402)
      return stripeError(402, { type: "card_error", code: "card_declined", decline_code: "generic_decline", doc_url: docUrl("card_declined"), message: "Your card was declined." });
    if (status === 429) return stripeErrors.rateLimited(1);
    if (preset === "idempotency_conflict")
      return stripeError(400, {
        type: "idempotency_error",
        message: "Keys for idempotent requests can only be used with the same parameters they were first used with.",
      });
    if (status >= 500) return stripeError(status, { type: "api_error", message: "An unexpected error occurred (injected by chaos)." }, { "stripe-should-retry": "false" });
    return stripeError(status, { type: "invalid_request_error", message: `Injected failure (${status}).` });
  },
  internal: () => stripeError(500, { type: "api_error", message: "An unknown error occurred in the Stripe clone." }, { "stripe-should-retry": "false" }),
};
