import type { VendorErrors } from "../../kernel/types.ts";

// Clerk's error body: { errors: [{ code, message, long_message, meta }], clerk_trace_id }.
export function clerkError(status: number, code: string, message: string, longMessage: string, headers: Record<string, string> = {}): Response {
  return Response.json(
    { errors: [{ code, message, long_message: longMessage, meta: {} }], clerk_trace_id: crypto.randomUUID().replaceAll("-", "") },
    { status, headers },
  );
}

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
