// The S3 clone's one error module: every failure, the platform's and the domain's, is S3's XML
// `<Error><Code/><Message/><Resource/><RequestId/></Error>`.
import { HTTPException } from "hono/http-exception";
import type { VendorErrors } from "../../kernel/types.ts";
import { xmlEscape } from "./xml.ts";

/** An S3 request id: 16 upper-case hex characters, like S3's own `x-amz-request-id`. */
export const requestId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();

// S3 answers XML: <Error><Code/><Message/><RequestId/></Error>.
export function s3Error(status: number, code: string, message: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}): Response {
  const id = requestId();
  const more = Object.entries(extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join("");
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${more}<RequestId>${id}</RequestId></Error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml", "x-amz-request-id": id, ...headers } });
}

/** An S3 error thrown from routes or the domain; the platform renders it and rolls the request back. */
export class S3Error extends HTTPException {
  readonly code: string;
  constructor(status: number, code: string, message: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
    super(status as 400, { res: s3Error(status, code, message, headers, extra), message });
    this.code = code;
  }
}

export const noSuchBucket = (bucket: string) => new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket });
export const noSuchKey = (key: string) => new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
export const noSuchUpload = (id: string) =>
  new S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", { UploadId: id });
export const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error(400, "InvalidArgument", message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? "" });
export const malformedXml = () => new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
export const preconditionFailed = (condition: string) =>
  new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: condition });
export const badDigest = (what: string) => new S3Error(400, "BadDigest", `The ${what} you specified did not match the calculated checksum.`);
export const signatureMismatch = () =>
  new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
export const notImplemented = (what: string) => new S3Error(501, "NotImplemented", `${what} is not implemented by the S3 clone yet.`);

export const s3Errors: VendorErrors = {
  // S3 never answers 401: unknown or revoked access keys are 403 InvalidAccessKeyId, which the SDK
  // expects; a request with no credentials at all is AccessDenied.
  unauthorized: (missing) =>
    missing ? s3Error(403, "AccessDenied", "Access Denied") : s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
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
