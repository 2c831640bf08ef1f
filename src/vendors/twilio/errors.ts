import { HTTPException } from "hono/http-exception";
import type { VendorErrors } from "../../kernel/types.ts";

// Twilio's error body: { code, message, more_info, status }.
export function twilioError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, { status, headers });
}

/** A Twilio error thrown from the domain; the platform renders it and rolls the request back. */
export class TwilioError extends HTTPException {
  constructor(
    status: number,
    readonly code: number,
    message: string,
  ) {
    super(status as 400, { res: twilioError(status, code, message), message });
  }
}

export const badRequest = (code: number, message: string) => new TwilioError(400, code, message);
/** Twilio's 20404, naming the path the way Twilio does (without the version prefix for Verify). */
export const notFound = (path: string) => new TwilioError(404, 20404, `The requested resource ${path} was not found`);
/** Verify's "Invalid parameter" (60200). */
export const invalidParam = (name: string, value?: string) =>
  new TwilioError(400, 60200, value === undefined ? `Invalid parameter: ${name}` : `Invalid parameter \`${name}\`: ${value}`);

export const twilioErrors: VendorErrors = {
  unauthorized: () => twilioError(401, 20003, "Authenticate", { "www-authenticate": 'Basic realm="Twilio API"' }),
  notFound: (_m, path) => twilioError(404, 20404, `The requested resource ${path} was not found`),
  notImplemented: (method, path) => twilioError(501, 20501, `${method} ${path} is not implemented by the Twilio clone yet.`),
  rateLimited: (retryAfter) => twilioError(429, 20429, "Too Many Requests", { "retry-after": String(retryAfter) }),
  tooLarge: (limit) => twilioError(413, 20413, `Request body exceeds ${limit} bytes.`),
  injected: (status, preset) => {
    if (preset === "invalid_number") return twilioError(400, 21211, "The 'To' number is not a valid phone number.");
    if (status === 429) return twilioErrors.rateLimited(1);
    if (status >= 500) return twilioError(status, 20500, "Internal Server Error (injected by chaos).");
    return twilioError(status, 20001, `Injected failure (${status}).`);
  },
  internal: () => twilioError(500, 20500, "Internal Server Error"),
};
