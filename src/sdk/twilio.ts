// The `twilio` SDK pointed at a Twilio clone: a RequestClient that rewrites Twilio's hosts to the
// clone, as CONTRACT section 3 serves them (api.twilio.com paths at the root, every other product
// host under /{subdomain}). Node side only: it imports the official `twilio` package.
import twilio from "twilio";

type RequestClient = InstanceType<typeof twilio.RequestClient>;
type RequestOptions = Parameters<RequestClient["request"]>[0];
type RequestClientOptions = ConstructorParameters<typeof twilio.RequestClient>[0];

const TWILIO_HOST = /^https?:\/\/([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com(?::\d+)?(\/[^?#]*)?(\?[^#]*)?/i;

/**
 * Where a Twilio URL lives on the clone; URLs of other hosts are returned as they are.
 * @example rewriteTwilioUrl("http://127.0.0.1:8002", "https://verify.twilio.com/v2/Services")
 * // "http://127.0.0.1:8002/verify/v2/Services"
 */
export function rewriteTwilioUrl(cloneUrl: string, uri: string): string {
  const m = TWILIO_HOST.exec(uri);
  if (!m) return uri;
  const base = cloneUrl.replace(/\/+$/, "");
  const sub = m[1].toLowerCase();
  const path = m[2] ?? "/";
  return `${base}${sub === "api" ? "" : `/${sub}`}${path}${m[3] ?? ""}`;
}

/**
 * A ready `httpClient` for twilio-node that sends every request to the clone at `cloneUrl`
 * (`run.clones.twilio.url`, or `MOLAR_CLONE_TWILIO_URL`), edge and region included.
 * @example
 * const client = twilio(run.clones.twilio.accountSid, run.clones.twilio.authToken, {
 *   httpClient: twilioCloneHttpClient(run.clones.twilio.url),
 * });
 * await client.messages.create({ from: "+15005550006", to: "+15551234567", body: "Hi" });
 */
export function twilioCloneHttpClient(cloneUrl: string, options?: RequestClientOptions): RequestClient {
  class CloneRequestClient extends twilio.RequestClient {
    override request<TData>(opts: RequestOptions & { data?: TData }) {
      return super.request<TData>({ ...opts, uri: rewriteTwilioUrl(cloneUrl, opts.uri) });
    }
  }
  return new CloneRequestClient(options);
}
