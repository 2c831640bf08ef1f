import { HTTPException } from "hono/http-exception";
import type { VendorErrors } from "../../kernel/types.ts";

// Clerk's error body: { errors: [{ code, message, long_message, meta }], clerk_trace_id }.
export function clerkError(
  status: number,
  code: string,
  message: string,
  longMessage: string,
  headers: Record<string, string> = {},
  meta: Record<string, unknown> = {},
): Response {
  return Response.json(
    { errors: [{ code, message, long_message: longMessage, meta }], clerk_trace_id: crypto.randomUUID().replaceAll("-", "") },
    { status, headers },
  );
}

/** A Clerk error thrown from the domain; the platform renders it and rolls the request back. */
export class ClerkError extends HTTPException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    longMessage = message,
    meta: Record<string, unknown> = {},
  ) {
    super(status as 400, { res: clerkError(status, code, message, longMessage, {}, meta), message: longMessage });
  }
}

export const notFound = () => new ClerkError(404, "resource_not_found", "not found", "Resource not found");

/** A form error on one parameter, as Clerk reports it: 422 with `meta.param_name`. */
export const formError = (code: string, param: string, message: string, longMessage = message) =>
  new ClerkError(422, code, message, longMessage, { param_name: param });

export const invalidParam = (param: string, longMessage: string) => formError("form_param_format_invalid", param, "is invalid", longMessage);
export const missingParam = (param: string) => formError("form_param_missing", param, "missing data", `${param} must be included.`);
export const unknownParam = (param: string) => new ClerkError(422, "form_param_unknown", "is unknown", `${param} is not a valid parameter for this request.`, { param_name: param });
export const malformed = () => new ClerkError(400, "malformed_request", "malformed request", "The request body is not valid JSON.");

export const identifierExists = (param: "email_address" | "phone_number" | "username", what: string) =>
  formError("form_identifier_exists", param, `That ${what} is taken. Please try another.`);

export const clerkErrors: VendorErrors = {
  unauthorized: () =>
    clerkError(401, "authentication_invalid", "Invalid authentication", "Unable to authenticate the request, you need to supply an active API key"),
  notFound: (_m, path) => clerkError(404, "resource_not_found", "not found", `No resource found at ${path}`),
  notImplemented: (method, path) => clerkError(501, "not_implemented", "not implemented", `${method} ${path} is not implemented by the auth clone yet.`),
  rateLimited: (retryAfter) =>
    clerkError(429, "too_many_requests", "Too many requests", "Too many requests, retry later", { "retry-after": String(retryAfter) }),
  tooLarge: (limit) => clerkError(413, "request_body_too_large", "Request body too large", `Request body exceeds ${limit} bytes.`),
  injected: (status, preset) => {
    if (preset === "session_expired") return clerkError(401, "session_expired", "Session expired", "This session has expired.");
    if (preset === "otp_rejected") return clerkError(422, "form_code_incorrect", "Incorrect code", "The verification code is incorrect.");
    if (status === 429) return clerkErrors.rateLimited(1);
    return clerkError(status, status >= 500 ? "internal_clerk_error" : "request_failed", "Injected failure", `Injected failure (${status}).`);
  },
  internal: () => clerkError(500, "internal_clerk_error", "Oops, an unexpected error occurred", "There was an internal error on our servers."),
};
