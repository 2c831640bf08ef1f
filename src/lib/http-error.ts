import { HTTPException } from "hono/http-exception";

/**
 * The control and admin APIs' error: `{ "error": { type, code, message } }` with a fitting status.
 * @example throw new ApiError(404, "not_found", "No run named ci-42.")
 */
export class ApiError extends HTTPException {
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    const type = status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : status >= 500 ? "api_error" : "invalid_request_error";
    super(status as 400, { res: Response.json({ error: { type, code, message } }, { status, headers }), message });
  }
}

const MAX_JSON_BYTES = 1 << 20;

/** Parses a JSON object body (1 MiB at most), or answers 413/422 in the API's shape. */
export async function jsonObject(req: Request, optional = true): Promise<Record<string, unknown>> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_JSON_BYTES) throw new ApiError(413, "too_large", `Bodies are capped at ${MAX_JSON_BYTES} bytes.`);
  const text = await req.text();
  if (text.length > MAX_JSON_BYTES) throw new ApiError(413, "too_large", `Bodies are capped at ${MAX_JSON_BYTES} bytes.`);
  if (text.trim() === "") {
    if (optional) return {};
    throw new ApiError(422, "invalid_body", "A JSON object body is required.");
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ApiError(422, "invalid_json", "The body is not valid JSON.");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ApiError(422, "invalid_body", "The body must be a JSON object.");
  return v as Record<string, unknown>;
}
