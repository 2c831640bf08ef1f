import { HTTPException } from "hono/http-exception";
import type { VendorErrors } from "../../kernel/types.ts";

// Resend's error body: { statusCode, name, message }.
export function resendError(statusCode: number, name: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ statusCode, name, message }, { status: statusCode, headers });
}

/** A Resend error thrown from the domain; the platform renders it and rolls the request back. */
export class ResendError extends HTTPException {
  constructor(statusCode: number, name: string, message: string) {
    super(statusCode as 400, { res: resendError(statusCode, name, message), message });
  }
}

export const invalid = (message: string) => new ResendError(422, "validation_error", message);
export const missingField = (field: string) => new ResendError(422, "missing_required_field", `Missing \`${field}\` field.`);
export const notFound = (what: string) => new ResendError(404, "not_found", `${what} not found`);

export const resendErrors: VendorErrors = {
  // Resend answers a wrong key with 403; the contract makes every rejected credential a 401.
  unauthorized: (missing) =>
    missing ? resendError(401, "missing_api_key", "Missing API key in the authorization header") : resendError(401, "invalid_api_key", "API key is invalid"),
  notFound: () => resendError(404, "not_found", "The requested endpoint does not exist."),
  notImplemented: (method, path) => resendError(501, "not_implemented", `${method} ${path} is not implemented by the email clone yet.`),
  rateLimited: (retryAfter, message) =>
    resendError(429, "rate_limit_exceeded", message ?? "Too many requests. Please limit the number of requests per second.", {
      "retry-after": String(retryAfter),
    }),
  tooLarge: (limit) => resendError(413, "validation_error", `Request body exceeds ${limit} bytes.`),
  injected: (status) => {
    if (status === 429) return resendErrors.rateLimited(1);
    if (status >= 500) return resendError(status, "application_error", "Something went wrong (injected by chaos).");
    return resendError(status, "validation_error", `Injected failure (${status}).`);
  },
  internal: () =>
    resendError(500, "application_error", "Internal server error. We are unable to process your request right now, please try again later."),
};
