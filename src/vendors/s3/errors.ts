import type { VendorErrors } from "../../kernel/types.ts";

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

// S3 answers XML: <Error><Code/><Message/><RequestId/></Error>.
export function s3Error(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  const requestId = crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml", "x-amz-request-id": requestId, ...headers } });
}

export const s3Errors: VendorErrors = {
  // S3 never answers 401: unknown or revoked access keys are 403 InvalidAccessKeyId, which the SDK expects.
  unauthorized: () => s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
  notFound: () => s3Error(400, "InvalidRequest", "Unrecognized request."),
  notImplemented: (method, path) => s3Error(501, "NotImplemented", `${method} ${path} is not implemented by the S3 clone yet.`),
  rateLimited: (retryAfter) => s3Error(503, "SlowDown", "Please reduce your request rate.", { "retry-after": String(retryAfter) }),
  tooLarge: (limit) => s3Error(400, "EntityTooLarge", `Your proposed upload exceeds the maximum allowed size (${limit} bytes).`),
  injected: (status) => {
    if (status === 503) return s3Errors.rateLimited(1);
    if (status >= 500) return s3Error(status, "InternalError", "We encountered an internal error. Please try again.");
    return s3Error(status, "AccessDenied", "Access Denied (injected by chaos).");
  },
  internal: () => s3Error(500, "InternalError", "We encountered an internal error. Please try again."),
};
